import { randomUUID } from 'node:crypto'
import { sql } from 'kysely'
import { describe, expect, it } from 'vitest'
import { customRoles, groups, members, orgs, overrides, type Tx } from '../src/index.ts'
import { bind, countWhere, join, newApp, newChannel, newGroup, newOrg, newUser } from './support/org-rows.ts'
import { TARGETS, useStore } from './support/targets.ts'

/**
 * Orgs and memberships: every function, asserting the rows it leaves and the engine changes it returns,
 * exactly. That any sequence of org-model writes keeps an engine equal to the rows is org-model.property.
 */
const sorted = (ids: readonly string[]) => [...ids].sort()
const orgRecord = (id: string, parentId: string | null, creatorId: string | null = null) => ({
  id,
  parentId,
  creatorId,
  singleRoleTeams: false,
  requireMfa: false,
  passwordPolicyId: null,
})

describe.each(TARGETS)('orgs and memberships repositories (%s)', (kind) => {
  const handle = useStore(kind)
  const db = () => handle.store.db
  const inTx = <T>(fn: (tx: Tx) => Promise<T>) => db().transaction().execute(fn)

  describe('orgs', () => {
    it('inserts a root org and a sub-org, each with its org.put, and finds them', async () => {
      const creator = await newUser(db())
      const [root, sub] = [randomUUID(), randomUUID()]
      const a = await inTx((tx) =>
        orgs.insertOrg(tx, { id: root, parentId: null, name: 'Root', creatorId: creator }),
      )
      expect(a.changes).toEqual([{ op: 'org.put', org: orgRecord(root, null, creator) }])
      expect(a.value).toMatchObject({
        id: root,
        parent_id: null,
        name: 'Root',
        creator_id: creator,
        management_email: null,
        logo_url: null,
        single_role_teams: false,
        single_role_teams_ever: false,
        require_mfa: false,
        password_policy_id: null,
      })
      expect(await orgs.findOrg(db(), root)).toEqual(a.value)
      const b = await inTx((tx) =>
        orgs.insertOrg(tx, { id: sub, parentId: root, name: 'Sub', creatorId: null }),
      )
      expect(b.changes).toEqual([{ op: 'org.put', org: orgRecord(sub, root) }])
      expect(await orgs.findOrg(db(), sub)).toMatchObject({ parent_id: root, creator_id: null })
      expect(await orgs.findOrg(db(), randomUUID())).toBeUndefined()
      // Under an org that isn't there: the foreign key refuses, and nothing is written.
      const orphan = randomUUID()
      await expect(
        inTx((tx) => orgs.insertOrg(tx, { id: orphan, parentId: randomUUID(), name: 'X', creatorId: null })),
      ).rejects.toThrow()
      expect(await orgs.findOrg(db(), orphan)).toBeUndefined()
    })

    it('lists orgs by id in name order, every org id, children, the subtree and the chain', async () => {
      const root = await newOrg(db(), null, 'B root')
      const [left, right] = [await newOrg(db(), root, 'A left'), await newOrg(db(), root, 'C right')]
      const leaf = await newOrg(db(), left, 'D leaf')
      const listed = await orgs.listOrgsByIds(db(), [right, leaf, root, left, randomUUID()])
      expect(listed.map((o) => o.id)).toEqual([left, root, right, leaf])
      expect(await orgs.listOrgsByIds(db(), [])).toEqual([])
      expect(await orgs.allOrgIds(db())).toEqual(expect.arrayContaining([root, left, right, leaf]))
      expect(sorted(await orgs.childOrgIds(db(), root))).toEqual(sorted([left, right]))
      expect(await orgs.childOrgIds(db(), leaf)).toEqual([])
      expect(sorted(await orgs.subtreeIds(db(), root))).toEqual(sorted([root, left, right, leaf]))
      expect(await orgs.subtreeIds(db(), right)).toEqual([right])
      expect(await orgs.subtreeIds(db(), randomUUID())).toEqual([])
      expect(await orgs.chainIds(db(), leaf)).toEqual([leaf, left, root])
      expect(await orgs.chainIds(db(), root)).toEqual([root])
      expect(await orgs.chainIds(db(), randomUUID())).toEqual([])
    })

    it('updates an org, with an org.put only when the patch touches what the engine mirrors', async () => {
      const [creator, heir] = [await newUser(db()), await newUser(db())]
      const [other, id] = [await newOrg(db()), randomUUID()]
      await inTx((tx) => orgs.insertOrg(tx, { id, parentId: null, name: 'Before', creatorId: creator }))
      const at = new Date('2031-02-03T04:05:06.789Z')
      const plain = await inTx((tx) =>
        orgs.updateOrg(
          tx,
          id,
          {
            name: 'After',
            management_email: 'ops@example.com',
            logo_url: 'https://example.com/logo.png',
            resource_admins_grant_team_access: true,
            single_role_teams_ever: true,
          },
          at,
        ),
      )
      expect(plain.changes).toEqual([])
      expect(await orgs.findOrg(db(), id)).toEqual(plain.value)
      expect(plain.value).toMatchObject({
        name: 'After',
        management_email: 'ops@example.com',
        logo_url: 'https://example.com/logo.png',
        resource_admins_grant_team_access: true,
        single_role_teams_ever: true,
        single_role_teams: false,
        updated_at: at,
      })
      const steps: [orgs.OrgPatch, ReturnType<typeof orgRecord>][] = [
        [{ single_role_teams: true }, { ...orgRecord(id, null, creator), singleRoleTeams: true }],
        [{ parent_id: other }, { ...orgRecord(id, other, creator), singleRoleTeams: true }],
        [
          { creator_id: heir, name: 'Again' },
          { ...orgRecord(id, other, heir), singleRoleTeams: true },
        ],
        [{ parent_id: null, single_role_teams: false }, orgRecord(id, null, heir)],
      ]
      for (const [patch, record] of steps) {
        const result = await inTx((tx) => orgs.updateOrg(tx, id, patch, at))
        expect(result.changes).toEqual([{ op: 'org.put', org: record }])
        expect(await orgs.findOrg(db(), id)).toEqual(result.value)
      }
      await expect(inTx((tx) => orgs.updateOrg(tx, randomUUID(), { name: 'Nobody' }, at))).rejects.toThrow()
    })

    it('deletes an org with one org.delete; the database takes its sub-orgs and all they hold', async () => {
      const user = await newUser(db())
      const root = await newOrg(db())
      const sub = await newOrg(db(), root)
      const app = await newApp(db(), sub)
      const channel = await newChannel(db(), sub, app)
      const group = await newGroup(db(), sub)
      await join(db(), root, user)
      await join(db(), sub, user)
      await inTx(async (tx) => {
        await members.upsertMembership(tx, sub, user, 'active')
        await customRoles.insertCustomRole(tx, sub, 'c1', {
          scope: 'app',
          slot: 'app',
          label: 'C1',
          description: '',
          permissions: ['app.read'],
          priority: 1,
        })
        await overrides.upsertOverride(tx, {
          id: randomUUID(),
          orgId: sub,
          resourceId: channel,
          userId: null,
          groupId: group,
          permission: 'channel.read',
          effect: 'allow',
        })
      })
      await bind(db(), { orgId: root, userId: user, role: 'org_admin' })
      await bind(db(), { orgId: sub, groupId: group, role: 'app_admin', scope: { type: 'app', id: app } })
      // A group of the sub-org bound in an unrelated org: its binding goes with the group.
      const elsewhere = await newOrg(db())
      const outside = await bind(db(), { orgId: elsewhere, groupId: group, role: 'org_member' })

      const result = await inTx((tx) => orgs.deleteOrg(tx, root))
      expect(result).toEqual({ value: undefined, changes: [{ op: 'org.delete', id: root }] })
      const ids = [root, sub]
      expect(await countWhere(db(), 'orgs', 'id', ids)).toBe(0)
      for (const table of ['memberships', 'resources', 'groups', 'bindings', 'overrides', 'custom_roles'])
        expect(await countWhere(db(), table, 'org_id', ids), table).toBe(0)
      expect(await countWhere(db(), 'bindings', 'id', [outside])).toBe(0)
      expect(await countWhere(db(), 'orgs', 'id', [elsewhere])).toBe(1)
      expect(await countWhere(db(), 'users', 'id', [user])).toBe(1)
    })

    it('locks the org row until the transaction ends', async () => {
      const id = await newOrg(db(), null, 'Locked')
      const order: string[] = []
      let locked!: () => void
      const held = new Promise<void>((resolve) => {
        locked = resolve
      })
      const first = inTx(async (tx) => {
        expect(await orgs.lockOrg(tx, id)).toMatchObject({ id, name: 'Locked' })
        locked()
        await new Promise((resolve) => setTimeout(resolve, 150))
        order.push('first commits')
      })
      await held
      // PGlite runs one transaction at a time; on PostgreSQL the second waits on the row lock.
      const second = inTx(async (tx) => {
        await orgs.lockOrg(tx, id)
        order.push('second locked')
      })
      await Promise.all([first, second])
      expect(order).toEqual(['first commits', 'second locked'])
      expect(await inTx((tx) => orgs.lockOrg(tx, randomUUID()))).toBeUndefined()
    })

    it('locks an org and reads the feed head after the lock: a revision committed while it waited counts', async () => {
      const id = await newOrg(db(), null, 'Headed')
      const { rows } = await sql<{ value: string }>`select value from revision where id = 1`.execute(db())
      const before = Number(rows[0]!.value)
      let locked!: () => void
      const held = new Promise<void>((resolve) => {
        locked = resolve
      })
      const first = inTx(async (tx) => {
        await orgs.lockOrg(tx, id)
        locked()
        await new Promise((resolve) => setTimeout(resolve, 150))
        await sql`update revision set value = value + 1 where id = 1`.execute(tx)
      })
      await held
      // On PostgreSQL this statement starts (its snapshot) before the bump and waits on the lock: a head read
      // with the statement's snapshot would say \`before\`.
      const second = inTx((tx) => orgs.lockOrgAtHead(tx, id))
      await first
      const got = await second
      expect(got.org).toMatchObject({ id, name: 'Headed' })
      expect(got.head).toBe(before + 1)
      expect(await inTx((tx) => orgs.lockOrgAtHead(tx, randomUUID()))).toEqual({
        org: null,
        head: before + 1,
        now: expect.any(Date),
      })
      // `now` is what a column defaulting to now() holds in the rows the same transaction writes.
      const [now, created] = await inTx(async (tx) => {
        const { now } = await orgs.lockOrgAtHead(tx, id)
        const row = await tx
          .insertInto('users')
          .values({ id: randomUUID(), email: `${randomUUID()}@example.com`, name: 'Then' })
          .returning('created_at')
          .executeTakeFirstOrThrow()
        return [now, row.created_at]
      })
      expect(now).toEqual(created)
    })
  })

  describe('memberships', () => {
    it('upserts a membership with its membership.put, changing the status in place', async () => {
      const [org, user] = [await newOrg(db()), await newUser(db())]
      for (const status of ['pending', 'active', 'active'] as const) {
        const result = await inTx((tx) => members.upsertMembership(tx, org, user, status))
        expect(result).toEqual({
          value: undefined,
          changes: [{ op: 'membership.put', membership: { orgId: org, userId: user, status } }],
        })
        expect(await members.findMembership(db(), org, user)).toMatchObject({
          org_id: org,
          user_id: user,
          status,
        })
      }
      expect(await countWhere(db(), 'memberships', 'org_id', [org])).toBe(1)
      expect(await members.findMembership(db(), org, randomUUID())).toBeUndefined()
    })

    it('deletes a membership and nothing else (the service removes the rest)', async () => {
      const [org, user] = [await newOrg(db()), await newUser(db())]
      const group = await newGroup(db(), org)
      await join(db(), org, user)
      const binding = await bind(db(), { orgId: org, userId: user, role: 'org_member' })
      await inTx((tx) => groups.upsertGroupMember(tx, group, user, null))
      const result = await inTx((tx) => members.deleteMembership(tx, org, user))
      expect(result).toEqual({
        value: undefined,
        changes: [{ op: 'membership.delete', orgId: org, userId: user }],
      })
      expect(await members.findMembership(db(), org, user)).toBeUndefined()
      expect(await countWhere(db(), 'bindings', 'id', [binding])).toBe(1)
      expect(await countWhere(db(), 'group_members', 'group_id', [group])).toBe(1)
    })

    it('lists memberships with the users’ fields, and finds one by email in any case', async () => {
      const [org, other] = [await newOrg(db()), await newOrg(db())]
      const ann = await newUser(db(), `Ann-${randomUUID()}@Example.com`)
      const bo = await newUser(db())
      await join(db(), org, ann)
      await join(db(), other, bo, 'pending')
      const listed = await members.listMemberships(db(), [org, other])
      expect(
        listed.map(({ created_at: _, ...m }) => m).sort((x, y) => x.user_id.localeCompare(y.user_id)),
      ).toEqual(
        [
          {
            org_id: org,
            user_id: ann,
            status: 'active',
            email: expect.stringMatching(/^Ann-/),
            name: expect.any(String),
          },
          {
            org_id: other,
            user_id: bo,
            status: 'pending',
            email: `${bo}@example.com`,
            name: expect.any(String),
          },
        ].sort((x, y) => x.user_id.localeCompare(y.user_id)),
      )
      expect(await members.listMemberships(db(), [])).toEqual([])
      const email = listed.find((m) => m.user_id === ann)!.email
      expect(await members.findMembershipByEmail(db(), org, email.toUpperCase())).toEqual({
        user_id: ann,
        status: 'active',
      })
      expect(await members.findMembershipByEmail(db(), other, email)).toBeUndefined()
    })

    it('finds an org’s active owners, and the users who own no org any more', async () => {
      const owners = ['org_super_admin']
      const [org, second] = [await newOrg(db()), await newOrg(db())]
      const [owner, pending, admin] = [await newUser(db()), await newUser(db()), await newUser(db())]
      const [appOwner, elsewhere] = [await newUser(db()), await newUser(db())]
      const app = await newApp(db(), org)
      await join(db(), org, owner)
      await join(db(), org, pending, 'pending')
      await join(db(), org, admin)
      await join(db(), org, appOwner)
      await join(db(), second, elsewhere)
      await bind(db(), { orgId: org, userId: owner, role: 'org_super_admin' })
      await bind(db(), { orgId: org, userId: pending, role: 'org_super_admin' })
      await bind(db(), { orgId: org, userId: admin, role: 'org_admin' })
      // An owner role below org scope owns nothing.
      await bind(db(), {
        orgId: org,
        userId: appOwner,
        role: 'org_super_admin',
        scope: { type: 'app', id: app },
      })
      await bind(db(), { orgId: second, userId: elsewhere, role: 'org_super_admin' })
      await inTx(async (tx) => {
        expect(await members.activeOwnerIds(tx, org, owners)).toEqual(new Set([owner]))
        expect(await members.activeOwnerIds(tx, second, owners)).toEqual(new Set([elsewhere]))
        expect(
          await members.usersOwningNoOrg(tx, [appOwner, owner, admin, pending, elsewhere, admin], owners),
        ).toEqual(sorted([pending, admin, appOwner]))
        expect(await members.usersOwningNoOrg(tx, [], owners)).toEqual([])
      })
    })
  })
})
