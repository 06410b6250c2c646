import { type Kysely, sql } from 'kysely'

/**
 * Issue 19.2, one source of truth per role, for orgs made before it. A role a model group holds at its org
 * (seed 003's Owners team holds `owner`, seed 002's ADMIN holds `org_admin` and DEFAULT `org_member`) is
 * held by being in that group and by nothing else; orgs made earlier also gave their creator (and anyone
 * given the role later) a binding of their own beside it, so leaving the group did not end the role.
 *
 * Each such copy is folded into the group: its holder joins the group (when a member of the org — a
 * pending one too, which grants nothing until active, as the binding did), and the binding goes. A model
 * group is known by its own org-scope binding, which `foundOrg` has always written with the reason
 * `model group`, so this needs no preset. Copies with an expiry stay: the group's membership would keep
 * them past it (no owner role may expire, so none is an owner's). Idempotent: a second run finds no copy.
 *
 * The engine is loaded after migrations at start, so it reads the folded rows; instances of an earlier
 * version still running hold the copies in memory until they restart (a rolling deploy restarts them).
 *
 * Beside it, for the same issue (19.7): an org may hold open invitations for one email to different targets
 * — the org itself, and a resource (seed 002: an ADMIN gives a project to an outside person by email while
 * a member invitation is open, or the other way round) — each accepted for what it grants; two open
 * invitations of one email to one target are still one too many.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    with model_roles as (
      select org_id, group_id, role
        from bindings
       where group_id is not null and scope_type = 'org' and reason = 'model group'
    ), copies as (
      select b.id, b.org_id, b.user_id, m.group_id
        from bindings b
        join model_roles m on m.org_id = b.org_id and m.role = b.role
       where b.user_id is not null and b.scope_type = 'org' and b.expires_at is null
    ), joined as (
      insert into group_members (group_id, user_id, member_role)
      select distinct c.group_id, c.user_id, null::text
        from copies c
        join memberships ms on ms.org_id = c.org_id and ms.user_id = c.user_id
      on conflict (group_id, user_id) do nothing
    )
    delete from bindings where id in (select id from copies)
  `.execute(db)
  await sql`drop index if exists invitations_open`.execute(db)
  await sql`
    create unique index if not exists invitations_open_per_target
      on invitations (org_id, lower(email), resource_id) nulls not distinct
      where accepted_at is null and revoked_at is null
  `.execute(db)
}

/**
 * The folded rows mean what the copies meant, and an older version reads them so too: nothing to undo there.
 * Open invitations go back to one per email and org (fails while an email has two open: revoke one first).
 */
export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index if exists invitations_open_per_target`.execute(db)
  await sql`
    create unique index invitations_open on invitations (org_id, lower(email))
      where accepted_at is null and revoked_at is null
  `.execute(db)
}
