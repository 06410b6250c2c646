import { type Kysely, sql } from 'kysely'

/**
 * Issue 22.7: a revoked or deleted platform token must stop working on every instance as the change
 * commits, not when a cache entry runs out. These triggers announce it on `orgkit_tokens` (tokens.repository
 * `TOKENS_CHANNEL`; NOTIFY is delivered at commit, to every listening connection), whoever made it — the
 * `orgkit tokens revoke` command or SQL by hand — and each instance drops the token from its cache.
 * (The rest of issue 22.7, sealing TOTP secrets and mail bodies, needs no schema change: sealed values
 * live in the same text columns, marked `ok1:<kid>:`.)
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create function orgkit_platform_token_gone() returns trigger language plpgsql as $fn$
    begin
      perform pg_notify('orgkit_tokens', old.id::text);
      return null;
    end
    $fn$`.execute(db)
  await sql`
    create trigger platform_token_revoked after update of revoked_at on platform_tokens
    for each row when (old.revoked_at is null and new.revoked_at is not null)
    execute function orgkit_platform_token_gone()`.execute(db)
  await sql`
    create trigger platform_token_deleted after delete on platform_tokens
    for each row execute function orgkit_platform_token_gone()`.execute(db)
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop trigger platform_token_deleted on platform_tokens`.execute(db)
  await sql`drop trigger platform_token_revoked on platform_tokens`.execute(db)
  await sql`drop function orgkit_platform_token_gone()`.execute(db)
}
