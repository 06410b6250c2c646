import { createHash, randomUUID } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { members, scim, type Tx } from '../src/index.ts'
import { join, newGroup, newOrg, newUser } from './support/org-rows.ts'
import { TARGETS, useStore } from './support/targets.ts'

/** SCIM directory tokens, users and group marks (migration 0014): the rows each function leaves and reads. */
const hash = (s: string) => createHash('sha256').update(s).digest('hex')
const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s))

describe.each(TARGETS)('scim repository (%s)', (kind) => {
  const handle = useStore(kind)
  const db = () => handle.store.db
  const inTx = <T>(fn: (tx: Tx) => Promise<T>) => db().transaction().execute(fn)

  it('keeps a token by its hash, lists it without one, touches it once a minute and revokes it in its org only', async () => {
    const [org, other] = [await newOrg(db()), await newOrg(db())]
    const id = randomUUID()
    const row = await inTx((tx) =>
      scim.insertToken(tx, {
        id,
        orgId: org,
        name: 'Okta',
        prefix: 'okd_abcdefgh',
        secretHash: hash('s1'),
        createdBy: null,
        now: at(0),
      }),
    )
    expect(row).toMatchObject({ id, org_id: org, name: 'Okta', prefix: 'okd_abcdefgh', revoked_at: null })
    expect(row).not.toHaveProperty('secret_hash')
    expect((await scim.listTokens(db(), org)).map((t) => t.id)).toEqual([id])
    expect(await scim.listTokens(db(), other)).toEqual([])
    expect((await scim.findLiveTokenByHash(db(), hash('s1')))?.org_id).toBe(org)
    expect(await scim.findLiveTokenByHash(db(), hash('s2'))).toBeUndefined()

    await scim.touchToken(db(), id, at(10))
    await scim.touchToken(db(), id, at(40)) // within the minute: not written again
    expect((await scim.findLiveTokenByHash(db(), hash('s1')))?.last_used_at).toEqual(at(10))
    await scim.touchToken(db(), id, at(80))
    expect((await scim.findLiveTokenByHash(db(), hash('s1')))?.last_used_at).toEqual(at(80))

    expect(await inTx((tx) => scim.revokeToken(tx, other, id, at(90)))).toBeUndefined()
    expect((await inTx((tx) => scim.revokeToken(tx, org, id, at(90))))?.revoked_at).toEqual(at(90))
    expect(await inTx((tx) => scim.revokeToken(tx, org, id, at(95)))).toBeUndefined()
    expect(await scim.findLiveTokenByHash(db(), hash('s1'))).toBeUndefined()
    expect((await scim.listTokens(db(), org))[0]?.revoked_at).toEqual(at(90))
  })

  it('reads a user’s active from the membership, filters, pages and keeps userName unique per org, case-insensitively', async () => {
    const [org, other] = [await newOrg(db()), await newOrg(db())]
    const [ann, bob, cid] = [await newUser(db()), await newUser(db()), await newUser(db())]
    const add = (orgId: string, userId: string, userName: string, s: number, attributes = {}) =>
      inTx((tx) =>
        scim.insertUser(tx, {
          id: randomUUID(),
          orgId,
          userId,
          userName,
          externalId: `ext-${userName}`,
          attributes,
          now: at(s),
        }),
      )
    const a = await add(org, ann, 'Ann@Example.com', 1, {
      emails: [{ value: 'ann.work@example.com', primary: true }],
    })
    const b = await add(org, bob, 'bob@example.com', 2)
    await add(other, ann, 'ann@example.com', 3) // the same person in another org's directory
    expect(a.active).toBe(false)
    await join(db(), org, ann)
    expect((await scim.findUser(db(), org, a.id))?.active).toBe(true)
    await inTx(async (tx) => (await members.upsertMembership(tx, org, bob, 'pending')).value)
    expect((await scim.findUser(db(), org, b.id))?.active).toBe(false) // pending is not active
    expect(await scim.findUser(db(), other, a.id)).toBeUndefined()
    expect(await scim.findUser(db(), org, 'not-a-uuid')).toBeUndefined()
    expect((await scim.findUserByUserName(db(), org, 'ANN@example.COM'))?.id).toBe(a.id)
    expect((await scim.findUserByUserId(db(), org, bob))?.id).toBe(b.id)

    await expect(add(org, cid, 'ann@EXAMPLE.com', 4)).rejects.toThrow() // userName taken
    await expect(add(org, ann, 'ann2@example.com', 4)).rejects.toThrow() // one record per person

    const ids = async (filter: scim.ScimFilter | null, page = { offset: 0, limit: 10 }) => {
      const { rows, total } = await scim.listUsers(db(), org, filter, page)
      return { ids: rows.map((r) => r.id), total }
    }
    expect(await ids(null)).toEqual({ ids: [a.id, b.id], total: 2 })
    expect(await ids(null, { offset: 1, limit: 1 })).toEqual({ ids: [b.id], total: 2 })
    expect(await ids(null, { offset: 0, limit: 0 })).toEqual({ ids: [], total: 2 })
    expect(await ids({ attr: 'userName', value: 'ANN@example.com' })).toEqual({ ids: [a.id], total: 1 })
    expect(await ids({ attr: 'externalId', value: 'ext-bob@example.com' })).toEqual({ ids: [b.id], total: 1 })
    expect(await ids({ attr: 'externalId', value: 'EXT-bob@example.com' })).toEqual({ ids: [], total: 0 })
    expect(await ids({ attr: 'email', value: 'Ann.Work@example.com' })).toEqual({ ids: [a.id], total: 1 })
    expect(await ids({ attr: 'id', value: 'nope' })).toEqual({ ids: [], total: 0 })
    expect(
      await ids({
        or: [
          { attr: 'userName', value: 'bob@example.com' },
          { attr: 'id', value: a.id },
        ],
      }),
    ).toEqual({ ids: [a.id, b.id], total: 2 })
    expect(
      await ids({
        and: [
          { attr: 'userName', value: 'bob@example.com' },
          { attr: 'id', value: a.id },
        ],
      }),
    ).toEqual({ ids: [], total: 0 })

    const updated = await inTx((tx) =>
      scim.updateUser(
        tx,
        org,
        b.id,
        { userName: 'robert@example.com', externalId: null, attributes: { title: 'x' } },
        at(9),
      ),
    )
    expect(updated).toMatchObject({
      user_name: 'robert@example.com',
      external_id: null,
      version: 2,
      attributes: { title: 'x' },
    })
    expect(updated.updated_at).toEqual(at(9))
    await inTx((tx) => scim.touchUser(tx, org, b.id, at(10)))
    expect((await scim.findUser(db(), org, b.id))?.version).toBe(3)
    expect(await inTx((tx) => scim.deleteUser(tx, other, b.id))).toBe(false)
    expect(await inTx((tx) => scim.deleteUser(tx, org, b.id))).toBe(true)
    expect(await scim.findUser(db(), org, b.id)).toBeUndefined()
  })

  it('marks directory groups, lists their members current and waiting, and forgets a deleted group', async () => {
    const org = await newOrg(db())
    const [ann, bob] = [await newUser(db()), await newUser(db())]
    const [g1, g2, plain] = [
      await newGroup(db(), org, 'Eng'),
      await newGroup(db(), org, 'Ops'),
      await newGroup(db(), org),
    ]
    await inTx((tx) => scim.insertGroup(tx, { groupId: g1, orgId: org, externalId: 'okta-eng', now: at(1) }))
    await inTx((tx) => scim.insertGroup(tx, { groupId: g2, orgId: org, externalId: null, now: at(2) }))
    expect((await scim.findGroup(db(), org, g1))?.name).toBe('Eng')
    expect(await scim.findGroup(db(), org, plain)).toBeUndefined()
    expect(await scim.directoryGroupIds(db(), [g1, plain])).toEqual(new Set([g1]))
    const list = async (filter: scim.ScimFilter | null) =>
      (await scim.listGroups(db(), org, filter, { offset: 0, limit: 10 })).rows.map((r) => r.id)
    expect(await list(null)).toEqual([g1, g2])
    expect(await list({ attr: 'displayName', value: 'ops' })).toEqual([g2])
    expect(await list({ attr: 'externalId', value: 'okta-eng' })).toEqual([g1])

    const a = await inTx((tx) =>
      scim.insertUser(tx, {
        id: randomUUID(),
        orgId: org,
        userId: ann,
        userName: 'ann',
        externalId: null,
        attributes: {},
        now: at(3),
      }),
    )
    const b = await inTx((tx) =>
      scim.insertUser(tx, {
        id: randomUUID(),
        orgId: org,
        userId: bob,
        userName: 'bob',
        externalId: null,
        attributes: {},
        now: at(4),
      }),
    )
    await join(db(), org, ann)
    await db().insertInto('group_members').values({ group_id: g1, user_id: ann, member_role: null }).execute()
    await inTx((tx) => scim.setSuspendedGroups(tx, org, b.id, [g1, g2]))
    const byGroup = await scim.groupMembers(db(), org, [g1, g2, plain])
    expect(byGroup.get(g1)).toEqual([
      { value: a.id, display: 'ann' },
      { value: b.id, display: 'bob' },
    ])
    expect(byGroup.get(g2)).toEqual([{ value: b.id, display: 'bob' }])
    expect(byGroup.get(plain)).toEqual([])
    expect(await scim.directoryGroupsOf(db(), org, ann)).toEqual([g1])
    expect((await scim.usersByIds(db(), org, [a.id, b.id, 'x'])).map((u) => u.active).sort()).toEqual([
      false,
      true,
    ])

    await inTx((tx) => scim.touchGroup(tx, org, g1, at(5), 'okta-eng-2'))
    expect(await scim.findGroup(db(), org, g1)).toMatchObject({ version: 2, external_id: 'okta-eng-2' })
    await inTx((tx) => scim.forgetSuspendedGroup(tx, org, g1))
    expect((await scim.findUser(db(), org, b.id))?.suspended_groups).toEqual([g2])
    await db().deleteFrom('groups').where('id', '=', g2).execute()
    expect(await scim.findGroup(db(), org, g2)).toBeUndefined() // the mark goes with its group
  })
})
