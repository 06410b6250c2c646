import { migrate, openStore, tokens } from '@orgkit/store'
import { sql } from 'kysely'

/**
 * The HTTP benches' world on PostgreSQL, bulk-loaded with INSERT … SELECT generate_series (not through the
 * API) into its own schema: http.bench.ts and start.bench.ts share it.
 */
export const USERS_PER_ORG = 25
export const APPS_PER_ORG = 10
const fmt = (n: number) => Math.round(n).toLocaleString('en-US')

/** The world: orgs of 25 users and 10 apps (each with a channel); 4 bindings per user (1 org, 3 apps). */
export async function loadWorld(databaseUrl: string, schema: string, bindings: number) {
  const store = await openStore({ url: databaseUrl, schema, poolSize: 2 })
  await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(store.db)
  await sql`create schema ${sql.id(schema)}`.execute(store.db)
  await migrate(store.db)
  const users = Math.max(USERS_PER_ORG, Math.round(bindings / 4 / USERS_PER_ORG) * USERS_PER_ORG)
  const orgs = users / USERS_PER_ORG
  const started = performance.now()
  const db = store.db
  // Deterministic ids in UUID v4 form (the API validates them), from md5, the same as md5uuid below.
  await sql`
    create function bench_id(text) returns uuid language sql immutable
    as $$ select (substr(h, 1, 12) || '4' || substr(h, 14, 3) || '8' || substr(h, 18, 15))::uuid from md5($1) h $$
  `.execute(db)
  await sql`
    insert into users (id, email, name)
    select bench_id('u' || i), 'u' || i || '@bench.local', 'u' || i from generate_series(0, ${users - 1}::int) i
  `.execute(db)
  await sql`
    insert into orgs (id, name, creator_id)
    select bench_id('o' || i), 'org ' || i, bench_id('u' || (i * ${USERS_PER_ORG}::int))
    from generate_series(0, ${orgs - 1}::int) i
  `.execute(db)
  await sql`
    insert into memberships (org_id, user_id, status)
    select bench_id('o' || (i / ${USERS_PER_ORG}::int)), bench_id('u' || i), 'active'
    from generate_series(0, ${users - 1}::int) i
  `.execute(db)
  await sql`
    insert into resources (id, org_id, type, parent_id, name)
    select bench_id('a' || i), bench_id('o' || (i / ${APPS_PER_ORG}::int)), 'app', null, 'app ' || i
    from generate_series(0, ${orgs * APPS_PER_ORG - 1}::int) i
  `.execute(db)
  await sql`
    insert into resources (id, org_id, type, parent_id, name)
    select bench_id('c' || i), bench_id('o' || (i / ${APPS_PER_ORG}::int)), 'channel', bench_id('a' || i),
      'production'
    from generate_series(0, ${orgs * APPS_PER_ORG - 1}::int) i
  `.execute(db)
  // Per org: user 0 super admin, users 1-2 admins, the rest members; each user 3 app roles in the org.
  await sql`
    insert into bindings (id, org_id, user_id, role, scope_type)
    select bench_id('bo' || i), bench_id('o' || (i / ${USERS_PER_ORG}::int)), bench_id('u' || i),
      case when i % ${USERS_PER_ORG}::int = 0 then 'org_super_admin'
           when i % ${USERS_PER_ORG}::int < 3 then 'org_admin' else 'org_member' end,
      'org'
    from generate_series(0, ${users - 1}::int) i
  `.execute(db)
  await sql`
    insert into bindings (id, org_id, user_id, role, scope_type, resource_id)
    select bench_id('ba' || i || '.' || k), bench_id('o' || (i / ${USERS_PER_ORG}::int)), bench_id('u' || i),
      (array['app_developer', 'app_uploader', 'app_reader'])[k + 1], 'app',
      bench_id('a' || ((i / ${USERS_PER_ORG}::int) * ${APPS_PER_ORG}::int + (i * 3 + k) % ${APPS_PER_ORG}::int))
    from generate_series(0, ${users - 1}::int) i, generate_series(0, 2) k
  `.execute(db)
  // As if written through the API: revision 1 (a baseline check asks atLeastRevision 1 to be answered by SQL).
  await sql`update revision set value = 1 where id = 1`.execute(db)
  await sql`analyze`.execute(db)
  const { rows } = await sql<{ n: string }>`select count(*) as n from bindings`.execute(db)
  const token = await tokens.createPlatformToken(db, 'bench')
  await store.close()
  const seconds = (performance.now() - started) / 1000
  console.log(
    `  loaded ${fmt(Number(rows[0]!.n))} bindings, ${fmt(users)} users, ${fmt(orgs)} orgs in ${seconds.toFixed(1)} s`,
  )
  return { users, orgs, token: token.secret }
}
