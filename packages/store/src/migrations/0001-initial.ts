import { type Kysely, sql } from 'kysely'

/**
 * The whole schema at PostgreSQL 15's level (PGlite runs the same SQL). Foreign keys cascade exactly as
 * the engine's `Change` deletes do, so the database and every instance's graph agree on what a delete
 * takes with it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table users (
      id uuid primary key,
      email text not null,
      name text not null default '',
      password_hash text,
      mfa_enabled boolean not null default false,
      compliant_password_policies text[] not null default '{}',
      created_at timestamptz not null default now()
    );
    create unique index users_email_key on users (lower(email));

    create table orgs (
      id uuid primary key,
      parent_id uuid references orgs (id) on delete cascade,
      name text not null check (length(name) between 1 and 200),
      creator_id uuid references users (id) on delete set null,
      management_email text,
      logo_url text,
      single_role_teams boolean not null default false,
      single_role_teams_ever boolean not null default false,
      require_mfa boolean not null default false,
      password_policy jsonb,
      password_policy_id text,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      check (parent_id is distinct from id)
    );
    create index orgs_parent on orgs (parent_id);

    create table memberships (
      org_id uuid not null references orgs (id) on delete cascade,
      user_id uuid not null references users (id) on delete cascade,
      status text not null check (status in ('active', 'pending')),
      created_at timestamptz not null default now(),
      primary key (org_id, user_id)
    );
    create index memberships_user on memberships (user_id);

    create table resources (
      id uuid primary key,
      org_id uuid not null references orgs (id) on delete cascade,
      type text not null,
      parent_id uuid references resources (id) on delete cascade,
      name text not null check (length(name) between 1 and 200),
      created_at timestamptz not null default now()
    );
    create index resources_org on resources (org_id, type);
    create index resources_parent on resources (parent_id);

    create table groups (
      id uuid primary key,
      org_id uuid not null references orgs (id) on delete cascade,
      name text not null check (length(name) between 1 and 200),
      description text not null default '',
      role text,
      created_at timestamptz not null default now(),
      unique (org_id, name)
    );

    create table group_members (
      group_id uuid not null references groups (id) on delete cascade,
      user_id uuid not null references users (id) on delete cascade,
      member_role text,
      created_at timestamptz not null default now(),
      primary key (group_id, user_id)
    );
    create index group_members_user on group_members (user_id);

    create table custom_roles (
      org_id uuid not null references orgs (id) on delete cascade,
      key text not null,
      scope text not null,
      slot text not null,
      label text not null,
      description text not null default '',
      permissions text[] not null,
      priority integer not null,
      created_at timestamptz not null default now(),
      primary key (org_id, key)
    );

    create table bindings (
      id uuid primary key,
      org_id uuid not null references orgs (id) on delete cascade,
      user_id uuid references users (id) on delete cascade,
      group_id uuid references groups (id) on delete cascade,
      role text not null,
      scope_type text not null,
      resource_id uuid references resources (id) on delete cascade,
      expires_at timestamptz,
      granted_by uuid references users (id) on delete set null,
      reason text,
      created_at timestamptz not null default now(),
      check ((user_id is null) <> (group_id is null)),
      check ((scope_type = 'org') = (resource_id is null))
    );
    create index bindings_org on bindings (org_id);
    create index bindings_user on bindings (user_id);
    create index bindings_group on bindings (group_id);
    create index bindings_resource on bindings (resource_id);

    create table overrides (
      id uuid primary key,
      org_id uuid not null references orgs (id) on delete cascade,
      resource_id uuid not null references resources (id) on delete cascade,
      user_id uuid references users (id) on delete cascade,
      group_id uuid references groups (id) on delete cascade,
      permission text not null,
      effect text not null check (effect in ('allow', 'deny')),
      created_at timestamptz not null default now(),
      check ((user_id is null) <> (group_id is null))
    );
    create unique index overrides_key on overrides (resource_id, permission, coalesce(user_id, group_id));
    create index overrides_org on overrides (org_id);

    create table platform_tokens (
      id uuid primary key,
      name text not null,
      prefix text not null,
      secret_hash text not null unique,
      created_at timestamptz not null default now(),
      revoked_at timestamptz
    );

    create table audit_log (
      id bigint generated always as identity primary key,
      org_id uuid,
      actor_type text not null,
      actor_id text,
      action text not null,
      target_type text not null,
      target_id text,
      before jsonb,
      after jsonb,
      ip text,
      user_agent text,
      request_id text,
      created_at timestamptz not null default now()
    );
    create index audit_log_org on audit_log (org_id, id);

    -- One row: every write that changes authorization bumps it inside its transaction. The row lock
    -- orders those transactions, so revisions become visible in commit order (no gaps to wait out).
    create table revision (id integer primary key check (id = 1), value bigint not null);
    insert into revision (id, value) values (1, 0);
    create table change_log (
      revision bigint primary key,
      changes jsonb not null,
      created_at timestamptz not null default now()
    );
  `.execute(db)
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    drop table change_log, revision, audit_log, platform_tokens, overrides, bindings, custom_roles,
      group_members, groups, resources, memberships, orgs, users
  `.execute(db)
}
