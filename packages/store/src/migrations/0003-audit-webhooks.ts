import { type Kysely, sql } from 'kysely'

/**
 * Tamper-evident audit (a hash chain per org, with an anchor that survives pruning) and webhooks (a
 * transactional outbox of events, one delivery row per endpoint and attempt schedule).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table audit_log
      add column seq bigint,
      add column prev_hash text,
      add column hash text;
    create unique index audit_log_chain on audit_log (coalesce(org_id, '00000000-0000-0000-0000-000000000000'::uuid), seq);
    create index audit_log_created on audit_log (created_at);

    -- Where an org's chain starts after pruning: the last pruned entry's seq and hash.
    create table audit_anchors (
      org_key uuid primary key,
      seq bigint not null,
      hash text not null
    );

    create table webhooks (
      id uuid primary key,
      org_id uuid not null references orgs (id) on delete cascade,
      url text not null,
      events text[],
      enabled boolean not null default true,
      secret text not null,
      description text not null default '',
      disabled_reason text,
      created_at timestamptz not null default now()
    );
    create index webhooks_org on webhooks (org_id);

    create table webhook_events (
      id text primary key,
      org_id uuid not null references orgs (id) on delete cascade,
      type text not null,
      payload jsonb not null,
      created_at timestamptz not null
    );

    create table webhook_deliveries (
      id uuid primary key,
      event_id text not null references webhook_events (id) on delete cascade,
      webhook_id uuid not null references webhooks (id) on delete cascade,
      status text not null check (status in ('pending', 'succeeded', 'failed')),
      attempts integer not null default 0,
      next_attempt_at timestamptz not null,
      locked_until timestamptz,
      last_status integer,
      last_error text,
      last_duration_ms integer,
      response_excerpt text,
      delivered_at timestamptz,
      created_at timestamptz not null default now(),
      unique (event_id, webhook_id)
    );
    create index webhook_deliveries_due on webhook_deliveries (next_attempt_at) where status = 'pending';
    create index webhook_deliveries_hook on webhook_deliveries (webhook_id, created_at);

    create table webhook_attempts (
      id bigint generated always as identity primary key,
      delivery_id uuid not null references webhook_deliveries (id) on delete cascade,
      attempt integer not null,
      status integer,
      error text,
      duration_ms integer not null,
      response_excerpt text,
      created_at timestamptz not null default now()
    );
    create index webhook_attempts_delivery on webhook_attempts (delivery_id);
  `.execute(db)
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    drop table webhook_attempts, webhook_deliveries, webhook_events, webhooks, audit_anchors;
    drop index audit_log_chain;
    drop index audit_log_created;
    alter table audit_log drop column seq, drop column prev_hash, drop column hash;
  `.execute(db)
}
