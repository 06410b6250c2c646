import { type Kysely, sql } from 'kysely'

/**
 * Billing (issue #9): each org's plan and billing email, a credit ledger whose balance the database keeps
 * non-negative, daily usage counters (checks answered, flushed in batches), and invoices per period.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table orgs
      add column plan text,
      add column billing_email text,
      add column credit_balance bigint not null default 0,
      add constraint orgs_credit_balance_nonnegative check (credit_balance >= 0);

    create table credit_entries (
      id uuid primary key,
      -- Insert order; within an org it is the order the locked writes committed in (the ledger's chain).
      seq bigint generated always as identity unique,
      org_id uuid not null references orgs (id) on delete cascade,
      kind text not null check (kind in ('purchase', 'grant', 'consumption', 'refund')),
      -- Signed: purchases and grants add, consumptions and refunds take away.
      amount bigint not null check (amount <> 0),
      balance_after bigint not null check (balance_after >= 0),
      description text not null default '',
      actor_type text not null,
      actor_id text,
      created_at timestamptz not null default now()
    );
    create index credit_entries_org on credit_entries (org_id, seq);

    create table usage_daily (
      org_id uuid not null references orgs (id) on delete cascade,
      day date not null,
      metric text not null,
      count bigint not null default 0,
      primary key (org_id, metric, day)
    );

    create table invoices (
      id uuid primary key,
      org_id uuid not null references orgs (id) on delete cascade,
      number text not null unique,
      period text not null,
      plan text not null,
      currency text not null,
      lines jsonb not null,
      total bigint not null check (total >= 0),
      status text not null check (status in ('open', 'paid', 'void')),
      provider text not null,
      provider_reference text,
      payment_url text,
      billing_email text,
      issued_at timestamptz not null,
      paid_at timestamptz,
      unique (org_id, period)
    );
    create index invoices_org on invoices (org_id, issued_at);
  `.execute(db)
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    drop table invoices, usage_daily, credit_entries;
    alter table orgs drop constraint orgs_credit_balance_nonnegative;
    alter table orgs drop column plan, drop column billing_email, drop column credit_balance;
  `.execute(db)
}
