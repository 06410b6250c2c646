import { type Kysely, sql } from 'kysely'

/**
 * Verified domains (issue 21.2): an org claims a domain, proves it with a DNS TXT record, and then may let
 * people whose verified email is at that domain join it (`auto`) or see it suggested (`suggest`).
 *
 * - `domain` is normalised by the repository (lower case, IDNA labels as punycode), so `Bücher.example` and
 *   `xn--bcher-kva.example` are one domain; the check keeps anything else out.
 * - `token` is the claim's own challenge (`orgkit-verification=<token>` at `_orgkit-challenge.<domain>`):
 *   another org's record proves nothing for this claim.
 * - Unverified claims of one domain may sit in several orgs (whoever controls its DNS decides which one
 *   verifies); `org_domains_verified_key` lets at most one org hold it verified, so of two orgs verifying at
 *   once exactly one commits and the other gets a unique violation (`DOMAIN_TAKEN`).
 * - A join mode other than `off` needs a verified domain (the check), so no unproven claim lets anyone in.
 * - `default_role`: the org role people joining through the domain get; null: the model's default role.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table org_domains (
      id uuid primary key,
      org_id uuid not null references orgs(id) on delete cascade,
      domain text not null
        constraint org_domains_domain_normalised check (domain = lower(domain) and length(domain) <= 253),
      token text not null,
      verified_at timestamptz,
      join_mode text not null default 'off'
        constraint org_domains_join_mode check (join_mode in ('off', 'suggest', 'auto')),
      default_role text,
      created_by uuid references users(id) on delete set null,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      constraint org_domains_org_domain_key unique (org_id, domain),
      constraint org_domains_join_needs_verified check (join_mode = 'off' or verified_at is not null)
    );
    create unique index org_domains_verified_key on org_domains (domain) where verified_at is not null;
  `.execute(db)
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table org_domains`.execute(db)
}
