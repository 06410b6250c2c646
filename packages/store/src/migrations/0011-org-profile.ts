import { type Kysely, sql } from 'kysely'

/**
 * Issue 19, the seed edges.
 *
 * - Seed 003's org settings: "the organization name, full name and description", "a related website or
 *   location" (the name, the avatar (`logo_url`) and the management email are 0005's).
 * - Invitations carry more than one org role (seed 004: an invitee joins "as a Member with read only
 *   access" plus the module roles chosen): `extra_roles`, beside the primary `role` every invitation has.
 * - An invitation may give access to one resource instead of a membership (seed 002: an ADMIN gives an
 *   outside person access to a project by email; on accepting they are external with that project only):
 *   `resource_id`, and then `role` is a role bound at that resource. Deleting the resource ends it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table orgs
      add column full_name text not null default '',
      add column description text not null default '',
      add column website text,
      add column location text not null default '';
    alter table invitations
      add column extra_roles jsonb not null default '[]'::jsonb,
      add column resource_id uuid references resources(id) on delete cascade;
  `.execute(db)
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table invitations drop column resource_id, drop column extra_roles;
    alter table orgs drop column location, drop column website, drop column description,
      drop column full_name;
  `.execute(db)
}
