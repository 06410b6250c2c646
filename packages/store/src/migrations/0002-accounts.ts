import { type Kysely, sql } from 'kysely'

/**
 * Accounts (SPEC 3): sessions, TOTP with recovery codes, user API keys, org security policies, email
 * invitations, the local mail outbox, captcha replay protection and rate-limit windows.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table users
      add column email_verified_at timestamptz,
      add column password_changed_at timestamptz,
      add column totp_secret text,
      add column totp_enabled_at timestamptz,
      add column totp_last_step bigint,
      add column sessions_valid_after timestamptz not null default 'epoch';

    alter table orgs
      add column api_key_policy jsonb;

    create table sessions (
      id text primary key,
      user_id uuid not null references users (id) on delete cascade,
      csrf_token text not null,
      created_at timestamptz not null default now(),
      expires_at timestamptz not null,
      ip text,
      user_agent text
    );
    create index sessions_user on sessions (user_id);

    create table email_verifications (
      token_hash text primary key,
      user_id uuid not null references users (id) on delete cascade,
      expires_at timestamptz not null,
      used_at timestamptz
    );

    create table recovery_codes (
      user_id uuid not null references users (id) on delete cascade,
      code_hash text not null,
      used_at timestamptz,
      primary key (user_id, code_hash)
    );

    create table api_keys (
      id uuid primary key,
      user_id uuid not null references users (id) on delete cascade,
      name text not null check (length(name) between 1 and 200),
      prefix text not null,
      secret_hash text not null unique,
      org_ids uuid[],
      resource_ids uuid[],
      permissions text[],
      expires_at timestamptz,
      revoked_at timestamptz,
      last_used_at timestamptz,
      created_at timestamptz not null default now()
    );
    create index api_keys_user on api_keys (user_id);

    create table invitations (
      id uuid primary key,
      org_id uuid not null references orgs (id) on delete cascade,
      email text not null,
      role text not null,
      first_name text,
      last_name text,
      token_hash text not null unique,
      invited_by uuid references users (id) on delete set null,
      created_at timestamptz not null default now(),
      expires_at timestamptz not null,
      accepted_at timestamptz,
      accepted_by uuid references users (id) on delete set null,
      revoked_at timestamptz
    );
    -- One open invitation per email and org: resend replaces its token.
    create unique index invitations_open on invitations (org_id, lower(email)) where accepted_at is null and revoked_at is null;

    create table mail_outbox (
      id uuid primary key,
      recipient text not null,
      subject text not null,
      text_body text not null,
      html_body text,
      created_at timestamptz not null default now(),
      sent_at timestamptz,
      error text
    );

    create table used_captchas (
      signature text primary key,
      expires_at timestamptz not null
    );

    -- Secrets every instance shares (the captcha's HMAC key), made on first start.
    create table server_secrets (name text primary key, value text not null);

    create table rate_limits (
      key text not null,
      window_start timestamptz not null,
      count integer not null,
      primary key (key, window_start)
    );
  `.execute(db)
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    drop table rate_limits, server_secrets, used_captchas, mail_outbox, invitations, api_keys, recovery_codes,
      email_verifications, sessions;
    alter table orgs drop column api_key_policy;
    alter table users drop column email_verified_at, drop column password_changed_at, drop column totp_secret,
      drop column totp_enabled_at, drop column totp_last_step, drop column sessions_valid_after;
  `.execute(db)
}
