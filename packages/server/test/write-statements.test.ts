import type { CompiledQuery, Kysely, QueryResult } from 'kysely'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DATABASES, startTestServer, type TestServer } from './support/harness.ts'

/**
 * What a user, member or binding write sends to the database (issue 25.3): each statement is a round trip on
 * PostgreSQL and a call into WebAssembly on PGlite. Checks a write's body makes inside the org's lock are
 * answered by the engine, which has caught up there, not by a read: here, that binding create reads no
 * `bindings` row to check the principal's slot and uniqueness (api.features and api.binding-role hold the
 * rules themselves, on both databases), and member add reads nothing.
 */
/** The start of the engine's read of the change feed (store's changes.repository.ts, `changesSince`). */
const FEED_READ = 'select head.value as head'

interface Executing {
  executeQuery(query: CompiledQuery, id: unknown): Promise<QueryResult<unknown>>
}

describe.each(DATABASES)("a write's statements (%s)", (database) => {
  let s: TestServer
  let admin = ''
  let orgId = ''
  let appId = ''
  let now = Date.now()
  beforeAll(async () => {
    s = await startTestServer(database, { clock: () => now })
    admin = await s.user('Admin')
    orgId = (await s.as(admin).post('/v1/orgs', { name: 'Statements' })).body.id
    appId = (await s.as(admin).post(`/v1/orgs/${orgId}/resources`, { type: 'app', name: 'app' })).body.id
    // The org's first writes teach the server its audit chain's head; the ones counted below are ordinary.
    await bindApp(await member())
  })
  afterAll(async () => {
    await s?.stop()
  })

  const member = async () => {
    const id = await s.user('Member')
    const added = await s.platform.post(`/v1/orgs/${orgId}/members`, { userId: id, roles: ['org_member'] })
    expect(added.status).toBe(201)
    return id
  }
  const bindApp = (userId: string, role = 'app_reader') =>
    s.as(admin).post(`/v1/orgs/${orgId}/bindings`, {
      principal: { type: 'user', id: userId },
      role,
      resourceId: appId,
    })

  /**
   * The statements the write in `run` sends through Kysely (its begin and commit aside), by their first
   * words, and on PostgreSQL its round trips (each Sync or simple query ends one) on its connection. Not the
   * engine's read of the feed, which on PostgreSQL the write's own NOTIFY may start before the reply.
   */
  async function sent(
    run: () => Promise<unknown>,
    marker: string = orgId,
  ): Promise<{ statements: string[]; trips: number; parsed: string[]; feedReadsInTransaction: number }> {
    const root = (s.ctx.db as Kysely<unknown>).getExecutor()
    let base: Executing = root
    while (!Object.hasOwn(base, 'executeQuery')) base = Object.getPrototypeOf(base)
    const { executeQuery } = base
    const proto = pg.Connection.prototype as unknown as Record<
      'bind' | 'sync' | 'query' | 'parse',
      (...a: unknown[]) => unknown
    >
    const { bind, sync, query, parse } = proto
    const statements: string[] = []
    const parsed: string[] = [] // statements parsed while the write ran, on any connection
    let pending = 0 // the write's statements under way: its connection's round trips are counted meanwhile
    let connection: unknown = null
    let trips = 0
    let feedReadsInTransaction = 0 // a transaction's executor is not the pool's (the engine's own reads)
    base.executeQuery = function (this: Executing, compiled, id) {
      // Without the marking comments of store's prepared.ts (COMMITS, DEFERRED): the statement itself.
      const text = compiled.sql
        .replace(/\/\* orgkit: \w+ \*\//g, '')
        .replace(/\s+/g, ' ')
        .trim()
      if (text.startsWith(FEED_READ)) {
        if (this !== root) feedReadsInTransaction++
        return executeQuery.call(this, compiled, id)
      }
      statements.push(text.split(' ').slice(0, 3).join(' '))
      pending++
      return executeQuery.call(this, compiled, id).finally(() => pending--)
    }
    // The write's connection: the one its statements bind the marker on (the org's id).
    proto.bind = function (this: unknown, config: unknown) {
      if (pending > 0 && (config as { values?: unknown[] }).values?.includes(marker)) connection ??= this
      return bind.call(this, config)
    }
    proto.sync = function (this: unknown) {
      if (pending > 0 && this === connection) trips++
      return sync.call(this)
    }
    proto.query = function (this: unknown, text: unknown) {
      if (pending > 0 && this === connection) trips++
      return query.call(this, text)
    }
    proto.parse = function (this: unknown, config: unknown) {
      if (pending > 0) parsed.push(String((config as { text?: unknown }).text))
      return parse.call(this, config)
    }
    try {
      await run()
    } finally {
      base.executeQuery = executeQuery
      Object.assign(proto, { bind, sync, query, parse })
    }
    return { statements, trips, parsed, feedReadsInTransaction }
  }

  it('user create: the insert, the audit entry with the feed; no read of the feed first', async () => {
    // The body asks the engine nothing (services/users.ts: asksEngine false): the insert carries the begin.
    const email = `new-${now}-${Math.random()}@example.com`
    let userId = ''
    const created = await sent(async () => {
      const reply = await s.platform.post('/v1/users', { email, name: 'New' })
      expect(reply.status).toBe(201)
      userId = reply.body.id
    }, email)
    expect(created.statements).toEqual(['insert into "users"', 'with appended as'])
    expect(created.feedReadsInTransaction).toBe(0)
    if (database === 'postgres') expect(created.trips).toBe(2)
    // So does the host's upsert by external id (services/external-users.ts: writeUsers too).
    const externalId = `ext-${now}-${Math.random()}`
    const upserted = await sent(async () => {
      const reply = await s.platform.put(`/v1/users/external/${externalId}`, {
        email: `up-${externalId}@example.com`,
        name: 'Upserted',
      })
      expect(reply.status).toBe(201)
    }, externalId)
    expect(upserted.feedReadsInTransaction).toBe(0)
    // A write to no org that asks the engine (an API key names the orgs it may reach) reads the feed first,
    // in its transaction: what the count above would have seen.
    const key = await sent(async () => {
      const reply = await s.as(admin).post('/v1/me/api-keys', { name: `ci ${now}`, orgIds: [orgId] })
      expect(reply.status).toBe(201)
    })
    expect(key.feedReadsInTransaction).toBe(1)
    // The engine has the user at once: member add asks it whether the user exists.
    const added = await s.platform.post(`/v1/orgs/${orgId}/members`, { userId, roles: ['org_member'] })
    expect(added.status).toBe(201)
  })

  it('binding create: the lock, the insert, the audit entry with the feed; no read of bindings', async () => {
    // The lock with its begin; the insert, the audit entry and its commit (store's prepared.ts: DEFERRED,
    // COMMITS) — once the connection the write gets has the insert prepared: the first time on one, the
    // insert goes alone. The pool has several connections: writes until one lands on a prepared one.
    const twoTrips: number[] = []
    for (let i = 0; i < 15 && twoTrips.length === 0; i++) {
      const userId = await member()
      const { statements, trips, parsed } = await sent(async () =>
        expect((await bindApp(userId)).status).toBe(201),
      )
      expect(statements).toHaveLength(3) // before: a fourth, `select * from "bindings"` for the slot check
      expect(statements.filter((q) => /bindings/.test(q))).toEqual(['insert into "bindings"'])
      if (database !== 'postgres') return
      const insertParsed = parsed.some((text) => text.includes('insert into "bindings"'))
      expect(trips).toBe(insertParsed ? 3 : 2)
      if (!insertParsed) twoTrips.push(trips)
    }
    expect(twoTrips).toEqual([2])
  })

  it('binding create builds its row as the database holds it: a group named in capitals, by its stored id', async () => {
    // The row is built, not read back (store's insertBinding): a uuid's spelling must be the database's, or
    // the engine would be told of a group it doesn't know (and reload), and the answer would differ.
    const group = (await s.as(admin).post(`/v1/orgs/${orgId}/groups`, { name: `Capitals ${now}` })).body
    const userId = await member()
    expect((await s.as(admin).put(`/v1/orgs/${orgId}/groups/${group.id}/members/${userId}`, {})).status).toBe(
      200,
    )
    const bound = await s.as(admin).post(`/v1/orgs/${orgId}/bindings`, {
      principal: { type: 'group', id: String(group.id).toUpperCase() },
      role: 'app_reader',
      resourceId: appId,
    })
    expect(bound.status).toBe(201)
    expect(bound.body.principal).toEqual({ type: 'group', id: group.id })
    const listed = await s.as(admin).get(`/v1/orgs/${orgId}/bindings?groupId=${group.id}`)
    expect(listed.body.items).toEqual([
      expect.objectContaining({ id: bound.body.id, createdAt: bound.body.createdAt }),
    ])
    const check = await s.as(userId).post('/v1/check', {
      permission: 'app.read',
      resource: { type: 'app', id: appId },
    })
    expect(check.body.allowed).toBe(true)
  })

  it('member add: the lock, the membership with its role in one statement, the audit entry; nothing read', async () => {
    const userId = await s.user('Member')
    const { statements, trips } = await sent(async () => {
      const added = await s.platform.post(`/v1/orgs/${orgId}/members`, { userId, roles: ['org_member'] })
      expect(added.status).toBe(201)
    })
    // Whether the user exists and is a member already, the engine answers (services/members.ts); the role
    // rides on the membership's insert (members.upsertMembership).
    expect(statements[1]).toBe('with "membership" as')
    expect(statements).toHaveLength(3)
    if (database === 'postgres') expect(trips).toBe(3)
    const held = await s.platform.get(`/v1/orgs/${orgId}/members`)
    const row = held.body.items.find((m: { userId: string }) => m.userId === userId)
    expect(row?.roles).toEqual(['org_member'])
  })

  it('member role set: one read, and the new role’s binding rides with the audit entry', async () => {
    // The lock; the member's org roles through groups with the org's owners; the old role's delete; the new
    // role's insert (DEFERRED, its row built from the lock's now()) and the entry with its commit: four round
    // trips on PostgreSQL (six before). The first time on a connection the insert goes alone: writes until one
    // lands on a connection that has it.
    const rideAlong: number[] = []
    for (let i = 0; i < 15 && rideAlong.length === 0; i++) {
      const userId = await member()
      const { statements, trips, parsed } = await sent(async () => {
        const set = await s.platform.patch(`/v1/orgs/${orgId}/members/${userId}`, { roles: ['org_admin'] })
        expect(set.status).toBe(200)
      })
      // The member's roles through groups and the org's owners in one read (store's roleChangeReads).
      expect(statements).toEqual([
        'with locked as',
        'select (select coalesce(json_agg(agg),',
        'delete from "bindings"',
        'insert into "bindings"',
        'with appended as',
      ])
      if (database !== 'postgres') return
      const insertParsed = parsed.some((text) => text.includes('insert into "bindings"'))
      expect(trips).toBe(insertParsed ? statements.length : statements.length - 1)
      if (!insertParsed) rideAlong.push(statements.length - trips)
    }
    expect(rideAlong).toEqual([1])
  })

  it('still refuses a role held and a second one in the slot; takes one after a revoke', async () => {
    const userId = await member()
    const first = await bindApp(userId)
    expect(first.status).toBe(201)
    const twice = await bindApp(userId)
    expect([twice.status, twice.body.code]).toEqual([409, 'ALREADY_EXISTS'])
    const other = await bindApp(userId, 'app_developer')
    expect([other.status, other.body.code]).toEqual([409, 'SLOT_TAKEN'])
    // Revoked, the slot is free again: the engine has the delete by the next write.
    expect((await s.as(admin).delete(`/v1/orgs/${orgId}/bindings/${first.body.id}`)).status).toBe(200)
    const again = await bindApp(userId, 'app_developer')
    expect(again.status).toBe(201)
  })

  it('counts an expired binding as held, as the database holds it', async () => {
    const userId = await member()
    const expiresAt = new Date(now + 3_600_000).toISOString()
    const timed = await s.as(admin).post(`/v1/orgs/${orgId}/bindings`, {
      principal: { type: 'user', id: userId },
      role: 'app_reader',
      resourceId: appId,
      expiresAt,
    })
    expect(timed.status).toBe(201)
    now += 2 * 3_600_000
    const twice = await bindApp(userId)
    expect([twice.status, twice.body.code]).toEqual([409, 'ALREADY_EXISTS'])
    const other = await bindApp(userId, 'app_developer')
    expect([other.status, other.body.code]).toEqual([409, 'SLOT_TAKEN'])
  })
})
