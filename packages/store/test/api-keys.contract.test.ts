import { randomUUID } from 'node:crypto'
import { sql } from 'kysely'
import { describe, expect, it } from 'vitest'
import { apiKeys, type Tx, users } from '../src/index.ts'
import { TARGETS, useStore } from './support/targets.ts'

describe.each(TARGETS)('API keys repository (%s)', (kind) => {
  const handle = useStore(kind)
  const db = () => handle.store.db
  const inTx = <T>(fn: (tx: Tx) => Promise<T>) => db().transaction().execute(fn)
  const newUser = async () => {
    const id = randomUUID()
    await inTx((tx) => users.insertUser(tx, { id, email: `k-${id}@example.com`, name: 'K' }))
    return id
  }
  const newOrg = async () => {
    const id = randomUUID()
    await db()
      .insertInto('orgs')
      .values({ id, parent_id: null, name: 'Org', password_policy: null })
      .execute()
    return id
  }
  const newKey = (userId: string, fields: { orgIds?: string[] | null; expiresAt?: Date | null } = {}) => {
    const id = randomUUID()
    return inTx((tx) =>
      apiKeys.insertApiKey(tx, {
        id,
        userId,
        name: `key ${id.slice(0, 4)}`,
        prefix: `okk_${id.slice(0, 8)}`,
        secretHash: `hash-${id}`,
        orgIds: fields.orgIds ?? null,
        resourceIds: null,
        permissions: null,
        expiresAt: fields.expiresAt ?? null,
      }),
    )
  }
  const keyRow = (id: string) =>
    db().selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirstOrThrow()

  it('inserts a key with its limits, and the engine’s apiKey.put for it', async () => {
    const userId = await newUser()
    const org = await newOrg()
    const id = randomUUID()
    const resource = randomUUID()
    const expiresAt = new Date('2032-01-01T00:00:00Z')
    const result = await inTx((tx) =>
      apiKeys.insertApiKey(tx, {
        id,
        userId,
        name: 'deploy',
        prefix: 'okk_abcdefgh',
        secretHash: 'sha-of-secret',
        orgIds: [org],
        resourceIds: [resource],
        permissions: ['org.read'],
        expiresAt,
      }),
    )
    expect(result.value).toEqual(await keyRow(id))
    expect(result.value).toMatchObject({
      user_id: userId,
      name: 'deploy',
      prefix: 'okk_abcdefgh',
      secret_hash: 'sha-of-secret',
      org_ids: [org],
      resource_ids: [resource],
      permissions: ['org.read'],
      expires_at: expiresAt,
      revoked_at: null,
      last_used_at: null,
    })
    expect(result.changes).toEqual([
      {
        op: 'apiKey.put',
        apiKey: {
          id,
          ownerId: userId,
          expiresAt: expiresAt.getTime(),
          revoked: false,
          orgIds: [org],
          resourceIds: [resource],
          permissions: ['org.read'],
        },
      },
    ])
  })

  it('lists a user’s keys newest first, revoked ones too, and finds a key by its secret’s hash', async () => {
    const [a, b] = [await newUser(), await newUser()]
    const older = (await newKey(a)).value
    const newer = (await newKey(a)).value
    await newKey(b)
    // created_at is the database's clock, never written by the repository: set apart here by hand.
    await sql`update api_keys set created_at = ${new Date('2030-01-01T00:00:00Z')} where id = ${older.id}`.execute(
      db(),
    )
    await sql`update api_keys set created_at = ${new Date('2030-01-02T00:00:00Z')} where id = ${newer.id}`.execute(
      db(),
    )
    await inTx((tx) => apiKeys.revokeApiKey(tx, newer.id, a, new Date('2030-02-01T00:00:00Z')))
    expect((await apiKeys.listApiKeys(db(), a)).map((k) => k.id)).toEqual([newer.id, older.id])
    expect(await apiKeys.findKeyBySecretHash(db(), newer.secret_hash)).toEqual({ id: newer.id, user_id: a })
    expect(await apiKeys.findKeyBySecretHash(db(), `no-${newer.secret_hash}`)).toBeUndefined()
  })

  it('reaches the owner’s active orgs, not the ones they are only invited to', async () => {
    const userId = await newUser()
    const [active, pending, foreign] = [await newOrg(), await newOrg(), await newOrg()]
    await db()
      .insertInto('memberships')
      .values([
        { org_id: active, user_id: userId, status: 'active' },
        { org_id: pending, user_id: userId, status: 'pending' },
      ])
      .execute()
    await db()
      .insertInto('memberships')
      .values({ org_id: foreign, user_id: await newUser(), status: 'active' })
      .execute()
    expect(await apiKeys.ownerOrgIds(db(), userId)).toEqual([active])
  })

  it('revokes only the owner’s unrevoked key, once', async () => {
    const [owner, stranger] = [await newUser(), await newUser()]
    const key = (await newKey(owner)).value
    const now = new Date('2030-03-01T00:00:00Z')
    const notTheirs = await inTx((tx) => apiKeys.revokeApiKey(tx, key.id, stranger, now))
    expect(notTheirs).toEqual({ value: undefined, changes: [] })
    expect((await keyRow(key.id)).revoked_at).toBeNull()
    const revoked = await inTx((tx) => apiKeys.revokeApiKey(tx, key.id, owner, now))
    expect(revoked.value?.revoked_at).toEqual(now)
    expect(revoked.changes).toEqual([
      {
        op: 'apiKey.put',
        apiKey: {
          id: key.id,
          ownerId: owner,
          expiresAt: null,
          revoked: true,
          orgIds: null,
          resourceIds: null,
          permissions: null,
        },
      },
    ])
    const again = await inTx((tx) =>
      apiKeys.revokeApiKey(tx, key.id, owner, new Date('2030-04-01T00:00:00Z')),
    )
    expect(again).toEqual({ value: undefined, changes: [] })
    expect((await keyRow(key.id)).revoked_at).toEqual(now)
  })

  it('withdraws orgs from a user’s live keys: revokes those left with none, narrows the others', async () => {
    const [userId, other] = [await newUser(), await newUser()]
    const [o1, o2, o3] = [await newOrg(), await newOrg(), await newOrg()]
    const onlyGone = (await newKey(userId, { orgIds: [o1, o2] })).value
    const mixed = (await newKey(userId, { orgIds: [o1, o3] })).value
    const untouched = (await newKey(userId, { orgIds: [o3] })).value
    const unlimited = (await newKey(userId)).value
    const alreadyRevoked = (await newKey(userId, { orgIds: [o1] })).value
    await inTx((tx) => apiKeys.revokeApiKey(tx, alreadyRevoked.id, userId, new Date('2030-01-01T00:00:00Z')))
    const someoneElses = (await newKey(other, { orgIds: [o1] })).value
    const now = new Date('2030-05-01T00:00:00Z')

    const result = await inTx((tx) => apiKeys.withdrawOrgsFromKeys(tx, userId, [o1, o2], now))

    expect(result.value.map((k) => k.id).sort()).toEqual([onlyGone.id, mixed.id].sort())
    expect(await keyRow(onlyGone.id)).toMatchObject({ org_ids: [o1, o2], revoked_at: now })
    expect(await keyRow(mixed.id)).toMatchObject({ org_ids: [o3], revoked_at: null })
    expect(await keyRow(untouched.id)).toMatchObject({ org_ids: [o3], revoked_at: null })
    expect(await keyRow(unlimited.id)).toMatchObject({ org_ids: null, revoked_at: null })
    expect(await keyRow(alreadyRevoked.id)).toMatchObject({
      org_ids: [o1],
      revoked_at: new Date('2030-01-01T00:00:00Z'),
    })
    expect(await keyRow(someoneElses.id)).toMatchObject({ org_ids: [o1], revoked_at: null })
    const put = (id: string, orgIds: string[], revoked: boolean) => ({
      op: 'apiKey.put',
      apiKey: { id, ownerId: userId, expiresAt: null, revoked, orgIds, resourceIds: null, permissions: null },
    })
    // One change per key it wrote, in no particular order.
    expect(result.changes).toHaveLength(2)
    expect(result.changes).toEqual(
      expect.arrayContaining([put(onlyGone.id, [o1, o2], true), put(mixed.id, [o3], false)]),
    )

    expect(await inTx((tx) => apiKeys.withdrawOrgsFromKeys(tx, userId, [o1, o2], now))).toEqual({
      value: [],
      changes: [],
    })
    expect(await inTx((tx) => apiKeys.withdrawOrgsFromKeys(tx, userId, [], now))).toEqual({
      value: [],
      changes: [],
    })
  })
})
