import { type Kysely, sql } from 'kysely'

/**
 * Per-org SSO (issue 21.1).
 *
 * - `sso_connections`: an org's OIDC or SAML connection. `config` is the adapter's JSON with its secret
 *   fields sealed by the server (`ok1:…`, bound to the connection's id), never in plain text. `tested_at`
 *   is set by a passing "test connection" and cleared when the config changes. `default_role` is the org
 *   role a person joins with (null: the model's default); `mappings` the IdP-group rules.
 * - `sso_identities`: who a (connection, subject) is. The one link from an IdP's person to an account; a
 *   subject never moves to another account.
 * - `sso_sign_ins`: a started sign-in, keyed by the SHA-256 of its `state`, taken once (DELETE … RETURNING)
 *   by the callback within 10 minutes. Kept server-side rather than in a cookie so that it is single-use on
 *   every instance, and its PKCE verifier and nonce (sealed in `pending`) never leave the server; the browser
 *   holds only a random binding cookie, whose hash must match (no login CSRF with someone else's state).
 * - `org_sso_settings`: "SSO required" for the org's verified domains, and the break-glass owner who may
 *   still sign in with a password.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table sso_connections (
      id uuid primary key,
      org_id uuid not null references orgs(id) on delete cascade,
      kind text not null check (kind in ('oidc', 'saml')),
      name text not null,
      config jsonb not null,
      enabled boolean not null default false,
      tested_at timestamptz,
      test_problem text,
      default_role text,
      mappings jsonb not null default '[]'::jsonb,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    );
    create index sso_connections_org on sso_connections (org_id);
    create table sso_identities (
      connection_id uuid not null references sso_connections(id) on delete cascade,
      subject text not null,
      user_id uuid not null references users(id) on delete cascade,
      created_at timestamptz not null default now(),
      last_sign_in_at timestamptz not null default now(),
      primary key (connection_id, subject)
    );
    create index sso_identities_user on sso_identities (user_id);
    create table sso_sign_ins (
      state_hash text primary key,
      connection_id uuid not null references sso_connections(id) on delete cascade,
      browser_hash text not null,
      pending text not null,
      expires_at timestamptz not null
    );
    create index sso_sign_ins_expiry on sso_sign_ins (expires_at);
    create table org_sso_settings (
      org_id uuid primary key references orgs(id) on delete cascade,
      sso_required boolean not null default false,
      break_glass_user_id uuid references users(id) on delete set null,
      updated_at timestamptz not null default now()
    );
  `.execute(db)
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    drop table org_sso_settings;
    drop table sso_sign_ins;
    drop table sso_identities;
    drop table sso_connections;
  `.execute(db)
}
