import { type Kysely, sql } from 'kysely'

/**
 * Issue 21.3: SCIM 2.0 directory sync (RFC 7643/7644), one directory per org.
 *
 * - `scim_tokens`: an org's directory credentials. Only the SHA-256 of the secret is kept (256 random bits:
 *   no stretching needed), with a prefix to recognise it; revoked ones stay listed.
 * - `scim_users`: the directory's record of a person in one org: its SCIM id, `userName`, `externalId` and
 *   the attributes it sent (name, emails…), pointing at the global Orgkit user it maps to. It holds no
 *   access: whether the person is `active` is whether they are a member of the org (memberships), read,
 *   never copied. While they are deactivated, the directory groups they were in wait in `suspended_groups`
 *   (their `group_members` rows are gone, so they have no access): one fact at a time, never two.
 * - `scim_groups`: marks an Orgkit group as the directory's (its `externalId`, a version for ETags); the
 *   group itself, its members and its bindings are the ordinary rows.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table scim_tokens (
      id uuid primary key,
      org_id uuid not null references orgs (id) on delete cascade,
      name text not null check (length(name) between 1 and 200),
      prefix text not null,
      secret_hash text not null unique,
      created_by uuid references users (id) on delete set null,
      created_at timestamptz not null default now(),
      last_used_at timestamptz,
      revoked_at timestamptz
    );
    create index scim_tokens_org on scim_tokens (org_id, created_at);

    create table scim_users (
      id uuid primary key,
      org_id uuid not null references orgs (id) on delete cascade,
      user_id uuid not null references users (id) on delete cascade,
      user_name text not null check (length(user_name) between 1 and 320),
      external_id text,
      attributes jsonb not null default '{}',
      suspended_groups uuid[] not null default '{}',
      version integer not null default 1,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      unique (org_id, user_id)
    );
    create unique index scim_users_user_name on scim_users (org_id, lower(user_name));
    create index scim_users_external_id on scim_users (org_id, external_id);
    create index scim_users_org_created on scim_users (org_id, created_at, id);

    create table scim_groups (
      group_id uuid primary key references groups (id) on delete cascade,
      org_id uuid not null references orgs (id) on delete cascade,
      external_id text,
      version integer not null default 1,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    );
    create index scim_groups_org on scim_groups (org_id, created_at, group_id);
  `.execute(db)
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table scim_groups; drop table scim_users; drop table scim_tokens;`.execute(db)
}
