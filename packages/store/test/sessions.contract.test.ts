import { randomUUID } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { sessions, type Tx, users } from '../src/index.ts'
import { TARGETS, useStore } from './support/targets.ts'

describe.each(TARGETS)('sessions repository (%s)', (kind) => {
  const handle = useStore(kind)
  const db = () => handle.store.db
  const inTx = <T>(fn: (tx: Tx) => Promise<T>) => db().transaction().execute(fn)
  const newUser = async () => {
    const id = randomUUID()
    await inTx((tx) => users.insertUser(tx, { id, email: `s-${id}@example.com`, name: 'S' }))
    return id
  }
  const start = (userId: string, id = `sess-${randomUUID()}`) =>
    sessions
      .insertSession(db(), {
        id,
        userId,
        csrfToken: `csrf-${id}`,
        expiresAt: new Date('2031-01-01T00:00:00Z'),
        ip: '203.0.113.7',
        userAgent: 'test',
      })
      .then(() => id)
  const idsOf = async (userId: string) =>
    (
      await db().selectFrom('sessions').select('id').where('user_id', '=', userId).orderBy('id').execute()
    ).map((r) => r.id)

  it('stores a session and finds it with its user’s cut-off; an unknown id finds nothing', async () => {
    const userId = await newUser()
    const id = await start(userId)
    const row = await db().selectFrom('sessions').selectAll().where('id', '=', id).executeTakeFirstOrThrow()
    expect(row).toMatchObject({
      id,
      user_id: userId,
      csrf_token: `csrf-${id}`,
      expires_at: new Date('2031-01-01T00:00:00Z'),
      ip: '203.0.113.7',
      user_agent: 'test',
    })
    const user = await db()
      .selectFrom('users')
      .select('sessions_valid_after')
      .where('id', '=', userId)
      .executeTakeFirstOrThrow()
    expect(await sessions.findSession(db(), id)).toEqual({
      id,
      user_id: userId,
      csrf_token: `csrf-${id}`,
      created_at: row.created_at,
      expires_at: new Date('2031-01-01T00:00:00Z'),
      second_factor: false,
      sessions_valid_after: user.sessions_valid_after,
    })
    expect(await sessions.findSession(db(), `missing-${id}`)).toBeUndefined()
  })

  it('keeps whether a session was handed off from a host token that proved a second factor', async () => {
    const userId = await newUser()
    const id = `sess-${randomUUID()}`
    await sessions.insertSession(db(), {
      id,
      userId,
      csrfToken: 'c',
      expiresAt: new Date('2031-01-01T00:00:00Z'),
      ip: null,
      userAgent: null,
      secondFactor: true,
    })
    expect((await sessions.findSession(db(), id))?.second_factor).toBe(true)
  })

  it('deletes one session, all of a user’s, or all but the one kept', async () => {
    const [a, b] = [await newUser(), await newUser()]
    const [a1, a2, a3] = [await start(a, `a1-${a}`), await start(a, `a2-${a}`), await start(a, `a3-${a}`)]
    const b1 = await start(b)
    await sessions.deleteSession(db(), a1)
    expect(await idsOf(a)).toEqual([a2, a3])
    await inTx((tx) => sessions.deleteUserSessions(tx, a, a3))
    expect(await idsOf(a)).toEqual([a3])
    await inTx((tx) => sessions.deleteUserSessions(tx, a))
    expect(await idsOf(a)).toEqual([])
    expect(await idsOf(b)).toEqual([b1])
  })

  it('moves the user’s cut-off, which every session of theirs then reads', async () => {
    const [a, b] = [await newUser(), await newUser()]
    const id = await start(a)
    const bBefore = await db()
      .selectFrom('users')
      .select('sessions_valid_after')
      .where('id', '=', b)
      .executeTakeFirstOrThrow()
    const now = new Date('2031-02-03T04:05:06.789Z')
    await inTx((tx) => sessions.invalidateUserSessions(tx, a, now))
    expect((await sessions.findSession(db(), id))?.sessions_valid_after).toEqual(now)
    const bAfter = await db()
      .selectFrom('users')
      .select('sessions_valid_after')
      .where('id', '=', b)
      .executeTakeFirstOrThrow()
    expect(bAfter).toEqual(bBefore)
  })
})
