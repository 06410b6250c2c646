import { randomUUID } from 'node:crypto'
import { Authorizer, isOrgkitError, presets, SNAPSHOT_KINDS } from '@orgkit/core'
import { sql } from 'kysely'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  bindings,
  changesSince,
  currentRevision,
  groups,
  loadSnapshot,
  mapPgErrors,
  members,
  migrate,
  openStore,
  orgs,
  overrides,
  recordChanges,
  resources,
  type Store,
  streamSnapshot,
  users,
} from '../src/index.ts'
import { migrations } from '../src/migrations/index.ts'
import { testFeedMac } from './support/feed-mac.ts'
import { embeddedEmptyDatabase } from './support/test-databases.ts'

/**
 * One contract suite for both databases: PGlite always, PostgreSQL when ORGKIT_TEST_DATABASE_URL is set
 * (each run in a schema of its own). Assertions are on rows.
 */
const url = process.env.ORGKIT_TEST_DATABASE_URL
const TARGETS = url ? (['pglite', 'postgres'] as const) : (['pglite'] as const)
const feedMac = testFeedMac()

describe.each(TARGETS)('store contract (%s)', (kind) => {
  let store: Store
  const schema = `orgkit_store_${randomUUID().replaceAll('-', '').slice(0, 12)}`
  // A new database with no schema on either: PGlite's as initdb left it, PostgreSQL's a new schema.
  const embedded = kind === 'pglite' ? embeddedEmptyDatabase() : null

  let applied: string[]

  beforeAll(async () => {
    store = await openStore(embedded ? { dataDir: embedded.dataDir } : { url, schema, poolSize: 12 })
    applied = await migrate(store.db)
  })
  afterAll(async () => {
    await store?.close()
    embedded?.remove()
    if (kind === 'postgres') {
      const admin = new pg.Client({ connectionString: url })
      await admin.connect()
      await admin.query(`drop schema if exists "${schema}" cascade`)
      await admin.end()
    }
  })

  it('migrates a new database from nothing once, and again is a no-op', async () => {
    expect(applied).toEqual(Object.keys(migrations).sort())
    expect(await migrate(store.db)).toEqual([])
    const tables = await store.db.introspection.getTables()
    expect(tables.map((t) => t.name)).toEqual(
      expect.arrayContaining([
        'users',
        'orgs',
        'memberships',
        'resources',
        'bindings',
        'overrides',
        'change_log',
        'revision',
        'audit_log',
      ]),
    )
  })

  it('checks an up-to-date database in two statements, and leaves any other to the migrator', async () => {
    let statements = 0
    const counted = store.db.withPlugin({
      transformQuery: (args) => {
        statements++
        return args.node
      },
      transformResult: async (args) => args.result,
    })
    expect(await migrate(counted)).toEqual([])
    expect(statements).toBe(2) // the migrator: 5 here, and its lock and transaction besides
    // A migration this build doesn't know (a newer version's) is refused as the migrator refuses it, not
    // taken for up to date; nor is a known one missing (the first: its `up` fails on the tables it made).
    const table = sql.table('kysely_migration')
    await sql`insert into ${table} (name, timestamp) values ('9999-from-a-newer-build', '2026-12-06')`.execute(
      store.db,
    )
    await expect(migrate(store.db)).rejects.toThrow(/9999-from-a-newer-build is missing/)
    await sql`delete from ${table} where name = '9999-from-a-newer-build'`.execute(store.db)
    const first = Object.keys(migrations).sort()[0]!
    const row = await sql<{
      timestamp: string
    }>`select timestamp from ${table} where name = ${first}`.execute(store.db)
    await sql`delete from ${table} where name = ${first}`.execute(store.db)
    await expect(migrate(store.db)).rejects.toThrow()
    await sql`insert into ${table} (name, timestamp) values (${first}, ${row.rows[0]!.timestamp})`.execute(
      store.db,
    )
    expect(await migrate(store.db)).toEqual([])
  })

  it('gives concurrent writers gap-free revisions, visible in order', async () => {
    const start = await currentRevision(store.db)
    const writers = Array.from({ length: 20 }, (_, i) =>
      store.db.transaction().execute(async (tx) => {
        const revision = await recordChanges(
          tx,
          [{ op: 'user.put', user: { id: `ghost-${i}`, mfaEnabled: false } }],
          feedMac,
        )
        return revision
      }),
    )
    const revisions = (await Promise.all(writers)).sort((a, b) => a - b)
    expect(revisions).toEqual(Array.from({ length: 20 }, (_, i) => start + i + 1))
    const feed = await changesSince(store.db, start, feedMac)
    expect(feed.map((f) => f.revision)).toEqual(revisions)
    expect(await currentRevision(store.db)).toBe(start + 20)
  })

  it('rolls back a write together with its change-feed row', async () => {
    const start = await currentRevision(store.db)
    await expect(
      store.db.transaction().execute(async (tx) => {
        await recordChanges(tx, [{ op: 'user.put', user: { id: 'never', mfaEnabled: false } }], feedMac)
        throw new Error('abort')
      }),
    ).rejects.toThrow('abort')
    expect(await currentRevision(store.db)).toBe(start)
    expect(await changesSince(store.db, start, feedMac)).toEqual([])
  })

  it('joins a member with their own org roles in one statement, or not at all', async () => {
    const [user, org, taken] = [randomUUID(), randomUUID(), randomUUID()]
    await store.db.transaction().execute(async (tx) => {
      await users.insertUser(tx, { id: user, email: `${user}@example.com`, name: 'U' })
      await orgs.insertOrg(tx, { id: org, parentId: null, name: 'O', creatorId: user })
    })
    const held = (id: string, role: string) => ({
      ...{ id, orgId: org, userId: user, groupId: null, role, scopeType: 'org', resourceId: null },
      ...{ expiresAt: null, grantedBy: null, reason: 'added' },
    })
    await store.db.transaction().execute((tx) => bindings.insertBinding(tx, held(taken, 'member')))
    // A binding id already taken fails the statement: the membership riding with it isn't made either.
    await expect(
      store.db
        .transaction()
        .execute((tx) => members.upsertMembership(tx, org, user, 'active', [held(taken, 'admin')])),
    ).rejects.toThrow()
    expect(await members.findMembership(store.db, org, user)).toBeUndefined()

    // A pending membership (an invitation's) becomes active with its roles, in the same statement.
    await store.db.transaction().execute((tx) => members.upsertMembership(tx, org, user, 'pending'))
    const [a, b] = [randomUUID(), randomUUID()]
    const made = await store.db
      .transaction()
      .execute((tx) =>
        members.upsertMembership(tx, org, user, 'active', [held(a, 'admin'), held(b, 'billing')]),
      )
    expect(made.changes.map((c) => c.op)).toEqual(['membership.put', 'binding.put', 'binding.put'])
    const put = made.changes.flatMap((c) => (c.op === 'binding.put' ? [c.binding] : []))
    expect(put.map((p) => [p.id, p.role]).sort()).toEqual(
      [
        [a, 'admin'],
        [b, 'billing'],
      ].sort(),
    )
    expect((await members.findMembership(store.db, org, user))?.status).toBe('active')
    const rows = await bindings.listBindings(store.db, { orgIds: [org], userId: user })
    expect(rows.map((r) => [r.id, r.role, r.reason]).sort()).toEqual(
      [
        [taken, 'member', 'added'],
        [a, 'admin', 'added'],
        [b, 'billing', 'added'],
      ].sort(),
    )
  })

  it('cascades deletes exactly as the engine does', async () => {
    const ids = {
      user: randomUUID(),
      org: randomUUID(),
      sub: randomUUID(),
      app: randomUUID(),
      channel: randomUUID(),
      group: randomUUID(),
    }
    await store.db.transaction().execute(async (tx) => {
      await users.insertUser(tx, { id: ids.user, email: `${ids.user}@example.com`, name: 'U' })
      await orgs.insertOrg(tx, { id: ids.org, parentId: null, name: 'O', creatorId: ids.user })
      await orgs.insertOrg(tx, { id: ids.sub, parentId: ids.org, name: 'S', creatorId: ids.user })
      await members.upsertMembership(tx, ids.org, ids.user, 'active')
      await resources.insertResource(tx, {
        id: ids.app,
        orgId: ids.org,
        type: 'app',
        parentId: null,
        name: 'A',
      })
      await resources.insertResource(tx, {
        id: ids.channel,
        orgId: ids.org,
        type: 'channel',
        parentId: ids.app,
        name: 'C',
      })
      await groups.insertGroup(tx, { id: ids.group, orgId: ids.org, name: 'G', description: '', role: null })
      await groups.upsertGroupMember(tx, ids.group, ids.user, null)
      const common = { grantedBy: null, reason: null, expiresAt: null }
      await bindings.insertBinding(tx, {
        id: randomUUID(),
        orgId: ids.org,
        userId: ids.user,
        groupId: null,
        role: 'org_member',
        scopeType: 'org',
        resourceId: null,
        ...common,
      })
      await bindings.insertBinding(tx, {
        id: randomUUID(),
        orgId: ids.org,
        userId: null,
        groupId: ids.group,
        role: 'app_admin',
        scopeType: 'app',
        resourceId: ids.app,
        ...common,
      })
      await overrides.upsertOverride(tx, {
        id: randomUUID(),
        orgId: ids.org,
        resourceId: ids.channel,
        userId: ids.user,
        groupId: null,
        permission: 'channel.read',
        effect: 'deny',
      })
    })
    const before = await loadSnapshot(store.db)
    const engine = new Authorizer(presets.capgo!, before.snapshot)
    engine.apply({ op: 'resource.delete', id: ids.app })
    await store.db.transaction().execute((tx) => resources.deleteResource(tx, ids.app))
    const afterApp = await loadSnapshot(store.db)
    expect(afterApp.snapshot.bindings.filter((b) => b.scope.id === ids.app)).toEqual([])
    expect(afterApp.snapshot.overrides.filter((o) => o.resourceId === ids.channel)).toEqual([])
    expect(afterApp.snapshot.resources.filter((r) => r.orgId === ids.org)).toEqual([])
    const rebuilt = new Authorizer(presets.capgo!, afterApp.snapshot)
    const u = { type: 'user', id: ids.user } as const
    for (const authz of [engine, rebuilt]) {
      expect(authz.has({ type: 'channel', id: ids.channel })).toBe(false)
      expect(authz.check(u, 'org.read', { type: 'org', id: ids.org }).allowed).toBe(true)
      expect(authz.check(u, 'org.read', { type: 'org', id: ids.sub }).allowed).toBe(true)
    }

    engine.apply({ op: 'org.delete', id: ids.org })
    await store.db.transaction().execute((tx) => orgs.deleteOrg(tx, ids.org))
    const after = await loadSnapshot(store.db)
    expect(after.snapshot.orgs.filter((o) => o.id === ids.org || o.id === ids.sub)).toEqual([])
    expect(after.snapshot.groups.filter((g) => g.id === ids.group)).toEqual([])
    expect(after.snapshot.groupMembers.filter((m) => m.groupId === ids.group)).toEqual([])
    expect(after.snapshot.memberships.filter((m) => m.orgId === ids.org)).toEqual([])
    expect(
      after.snapshot.bindings.filter((b) => b.principal.id === ids.user || b.principal.id === ids.group),
    ).toEqual([])
    for (const authz of [engine, new Authorizer(presets.capgo!, after.snapshot)]) {
      expect(authz.has({ type: 'org', id: ids.sub })).toBe(false)
      expect(authz.listResources(u, 'org.read', 'org')).toEqual([])
    }
  })

  it('turns constraint violations into catalogue errors', async () => {
    const id = randomUUID()
    const insert = () =>
      mapPgErrors('user', () =>
        store.db
          .transaction()
          .execute((tx) => users.insertUser(tx, { id, email: `dup-${id}@example.com`, name: 'D' })),
      )
    await insert()
    const error = await insert().catch((e: unknown) => e)
    expect(isOrgkitError(error, 'ALREADY_EXISTS')).toBe(true)
    const dangling = await mapPgErrors('membership', () =>
      store.db.transaction().execute((tx) => members.upsertMembership(tx, randomUUID(), id, 'active')),
    ).catch((e: unknown) => e)
    expect(isOrgkitError(dangling, 'NOT_FOUND')).toBe(true)
  })

  it('streams the snapshot in parts, kind by kind, from one view of the data', async () => {
    // More users than one FETCH returns: their kind must come in more than one part.
    await sql`
      insert into users (id, email, name)
      select gen_random_uuid(), 'bulk-' || i || '@example.com', 'bulk' from generate_series(1, 5003) i
    `.execute(store.db)
    const late = randomUUID()
    const org = randomUUID()
    await sql`insert into orgs (id, name) values (${org}, 'Streamed')`.execute(store.db)
    const parts: { kind: string; size: number }[] = []
    const streamed: string[] = []
    const streamedMembers: string[] = []
    const revision = await streamSnapshot(store.db, async (part) => {
      parts.push({ kind: part.kind, size: part.records.length })
      if (part.kind === 'memberships') streamedMembers.push(...part.records.map((m) => m.userId))
      if (part.kind !== 'users') return
      streamed.push(...part.records.map((u) => u.id))
      // PGlite has one connection, which the snapshot's transaction holds: a concurrent write there
      // would wait for it. On PostgreSQL a write commits between two parts: the snapshot must not see it.
      if (kind === 'postgres' && streamed.length === part.records.length) {
        await store.db.transaction().execute(async (tx) => {
          await users.insertUser(tx, { id: late, email: `late-${late}@example.com`, name: 'Late' })
          // A row of a kind read later: a snapshot that is not one view would see it.
          await members.upsertMembership(tx, org, late, 'active')
          await recordChanges(tx, [{ op: 'user.put', user: { id: late, mfaEnabled: false } }], feedMac)
        })
      }
    })
    const order = parts.map((p) => SNAPSHOT_KINDS.indexOf(p.kind as (typeof SNAPSHOT_KINDS)[number]))
    expect(order.every((at, i) => at >= 0 && (i === 0 || at >= order[i - 1]!))).toBe(true)
    const userParts = parts.filter((p) => p.kind === 'users').map((p) => p.size)
    expect(userParts.length).toBeGreaterThan(1)
    expect(Math.max(...userParts)).toBeLessThanOrEqual(5000)
    expect(streamed).not.toContain(late)
    expect(streamedMembers).not.toContain(late)
    const now = await loadSnapshot(store.db)
    const all = now.snapshot.users.map((u) => u.id)
    if (kind === 'postgres') {
      expect(now.revision).toBe(revision + 1)
      expect(all).toContain(late)
      expect(now.snapshot.memberships.map((m) => m.userId)).toContain(late)
      expect(new Set(streamed)).toEqual(new Set(all.filter((id) => id !== late)))
    } else {
      expect(now.revision).toBe(revision)
      expect(new Set(streamed)).toEqual(new Set(all))
    }
  })
})
