import { randomUUID } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { groups, overrides, type Tx } from '../src/index.ts'
import { bind, countWhere, newApp, newChannel, newGroup, newOrg, newUser } from './support/org-rows.ts'
import { TARGETS, useStore } from './support/targets.ts'

/**
 * Groups and their members: every function, asserting the rows it leaves and the engine changes it
 * returns, exactly.
 */
const sorted = (ids: readonly string[]) => [...ids].sort()

describe.each(TARGETS)('groups repository (%s)', (kind) => {
  const handle = useStore(kind)
  const db = () => handle.store.db
  const inTx = <T>(fn: (tx: Tx) => Promise<T>) => db().transaction().execute(fn)

  describe('groups', () => {
    it('inserts a group with its group.put, and finds and lists the org’s groups', async () => {
      const [org, other] = [await newOrg(db()), await newOrg(db())]
      const id = randomUUID()
      const result = await inTx((tx) =>
        groups.insertGroup(tx, {
          id,
          orgId: org,
          name: 'Mobile',
          description: 'The app team',
          role: 'app_developer',
        }),
      )
      expect(result.changes).toEqual([{ op: 'group.put', group: { id, orgId: org, role: 'app_developer' } }])
      expect(result.value).toMatchObject({
        id,
        org_id: org,
        name: 'Mobile',
        description: 'The app team',
        role: 'app_developer',
      })
      expect(await groups.findGroup(db(), org, id)).toEqual(result.value)
      expect(await groups.findGroup(db(), other, id)).toBeUndefined()
      const admins = await newGroup(db(), org, 'ADMIN')
      const owners = await newGroup(db(), org, 'Owners')
      await newGroup(db(), other, 'Owners')
      expect((await groups.listGroups(db(), org)).map((g) => g.id)).toEqual([admins, id, owners])
      expect(
        sorted((await groups.findGroupsByName(db(), org, ['Owners', 'ADMIN', 'DEFAULT'])).map((g) => g.id)),
      ).toEqual(sorted([owners, admins]))
      expect(await groups.findGroupsByName(db(), org, [])).toEqual([])
      // Names are unique within an org.
      await expect(
        inTx((tx) =>
          groups.insertGroup(tx, {
            id: randomUUID(),
            orgId: org,
            name: 'Mobile',
            description: '',
            role: null,
          }),
        ),
      ).rejects.toThrow()
    })

    it('updates a group, with a group.put only when its role is in the patch', async () => {
      const org = await newOrg(db())
      const id = await newGroup(db(), org, 'Before', 'app_reader')
      const renamed = await inTx((tx) => groups.updateGroup(tx, id, { name: 'After', description: 'New' }))
      expect(renamed.changes).toEqual([])
      expect(renamed.value).toMatchObject({ name: 'After', description: 'New', role: 'app_reader' })
      for (const role of ['app_admin', null]) {
        const result = await inTx((tx) => groups.updateGroup(tx, id, { role }))
        expect(result.changes).toEqual([{ op: 'group.put', group: { id, orgId: org, role } }])
        expect(await groups.findGroup(db(), org, id)).toEqual(result.value)
      }
      await expect(inTx((tx) => groups.updateGroup(tx, randomUUID(), { name: 'X' }))).rejects.toThrow()
    })

    it('deletes a group with one group.delete; the database takes its members, bindings and overrides', async () => {
      const [org, elsewhere, user] = [await newOrg(db()), await newOrg(db()), await newUser(db())]
      const app = await newApp(db(), org)
      const channel = await newChannel(db(), org, app)
      const [group, kept] = [await newGroup(db(), org), await newGroup(db(), org)]
      await inTx(async (tx) => {
        await groups.upsertGroupMember(tx, group, user, null)
        await groups.upsertGroupMember(tx, kept, user, null)
        await overrides.upsertOverride(tx, {
          id: randomUUID(),
          orgId: org,
          resourceId: channel,
          userId: null,
          groupId: group,
          permission: 'channel.read',
          effect: 'deny',
        })
      })
      const bound = [
        await bind(db(), { orgId: org, groupId: group, role: 'team', scope: { type: 'app', id: app } }),
        await bind(db(), { orgId: elsewhere, groupId: group, role: 'org_member' }),
      ]
      const result = await inTx((tx) => groups.deleteGroup(tx, group))
      expect(result).toEqual({ value: undefined, changes: [{ op: 'group.delete', id: group }] })
      expect(await groups.findGroup(db(), org, group)).toBeUndefined()
      expect(await countWhere(db(), 'group_members', 'group_id', [group])).toBe(0)
      expect(await countWhere(db(), 'bindings', 'id', bound)).toBe(0)
      expect(await countWhere(db(), 'overrides', 'group_id', [group])).toBe(0)
      expect(await countWhere(db(), 'group_members', 'group_id', [kept])).toBe(1)
    })

    it('adds members with groupMember.put, changing a member’s role in place, and lists them', async () => {
      const org = await newOrg(db())
      const [group, other] = [await newGroup(db(), org), await newGroup(db(), org)]
      const ann = await newUser(db(), `a-${randomUUID()}@example.com`)
      const bo = await newUser(db(), `b-${randomUUID()}@example.com`)
      for (const memberRole of [null, 'app_admin']) {
        const result = await inTx((tx) => groups.upsertGroupMember(tx, group, bo, memberRole))
        expect(result).toEqual({
          value: undefined,
          changes: [{ op: 'groupMember.put', member: { groupId: group, userId: bo, memberRole } }],
        })
        expect(await groups.findGroupMember(db(), group, bo)).toMatchObject({
          group_id: group,
          user_id: bo,
          member_role: memberRole,
        })
      }
      await inTx((tx) => groups.upsertGroupMember(tx, group, ann, null))
      await inTx((tx) => groups.upsertGroupMember(tx, other, ann, 'app_reader'))
      const listed = await groups.listGroupMembers(db(), group)
      expect(listed.map(({ created_at: _, ...m }) => m)).toEqual([
        { user_id: ann, member_role: null, email: expect.stringMatching(/^a-/), name: expect.any(String) },
        {
          user_id: bo,
          member_role: 'app_admin',
          email: expect.stringMatching(/^b-/),
          name: expect.any(String),
        },
      ])
      const rows = await groups.membersOfGroups(db(), [group, other])
      expect(rows.map((m) => `${m.group_id} ${m.user_id} ${m.member_role}`).sort()).toEqual(
        [`${group} ${ann} null`, `${group} ${bo} app_admin`, `${other} ${ann} app_reader`].sort(),
      )
      expect(await groups.membersOfGroups(db(), [])).toEqual([])
      expect(await groups.findGroupMember(db(), other, bo)).toBeUndefined()
    })

    it('removes a member with groupMember.delete, and says so; a non-member changes nothing', async () => {
      const [org, user] = [await newOrg(db()), await newUser(db())]
      const group = await newGroup(db(), org)
      await inTx((tx) => groups.upsertGroupMember(tx, group, user, null))
      const removed = await inTx((tx) => groups.deleteGroupMember(tx, group, user))
      expect(removed).toEqual({
        value: true,
        changes: [{ op: 'groupMember.delete', groupId: group, userId: user }],
      })
      expect(await groups.findGroupMember(db(), group, user)).toBeUndefined()
      expect(await inTx((tx) => groups.deleteGroupMember(tx, group, user))).toEqual({
        value: false,
        changes: [],
      })
    })

    it('finds a user’s groups in some orgs, and the guarded groups where they are the only member', async () => {
      const [org, sub, other] = await Promise.all([newOrg(db()), newOrg(db()), newOrg(db())])
      const [user, peer] = [await newUser(db()), await newUser(db())]
      const alone = await newGroup(db(), org, 'Owners')
      const shared = await newGroup(db(), sub, 'Owners')
      const plain = await newGroup(db(), org, 'Plain')
      const far = await newGroup(db(), other, 'Owners')
      await inTx(async (tx) => {
        for (const g of [alone, shared, plain, far]) await groups.upsertGroupMember(tx, g, user, null)
        await groups.upsertGroupMember(tx, shared, peer, null)
      })
      const mine = await groups.userGroupMemberships(db(), user, [org, sub])
      expect(mine.map((m) => `${m.group_id} ${m.org_id}`).sort()).toEqual(
        [`${alone} ${org}`, `${shared} ${sub}`, `${plain} ${org}`].sort(),
      )
      expect(mine.every((m) => m.user_id === user)).toBe(true)
      expect(await groups.userGroupMemberships(db(), user, [])).toEqual([])
      const filter = { orgIds: [org, sub], names: ['Owners'], userId: user }
      expect(await groups.groupsWhereOnlyMember(db(), filter)).toEqual([{ id: alone, name: 'Owners' }])
      expect(await groups.groupsWhereOnlyMember(db(), { ...filter, groupId: shared })).toEqual([])
      expect(await groups.groupsWhereOnlyMember(db(), { ...filter, userId: peer })).toEqual([])
      expect(await groups.groupsWhereOnlyMember(db(), { ...filter, names: [] })).toEqual([])
      expect(await groups.groupsWhereOnlyMember(db(), { ...filter, orgIds: [] })).toEqual([])
    })
  })
})
