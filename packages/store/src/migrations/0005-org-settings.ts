import { type Kysely, sql } from 'kysely'

/** Seed 003's "Permissions" org setting: may a resource's own admins give teams access to it? */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table orgs add column resource_admins_grant_team_access boolean not null default false`.execute(
    db,
  )
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table orgs drop column resource_admins_grant_team_access`.execute(db)
}
