import { describe, expect, it } from 'vitest'
import { groups, members, type Tx } from '../src/index.ts'
import { bind, join, newApp, newGroup, newOrg, newUser } from './support/org-rows.ts'
import { TARGETS, useStore } from './support/targets.ts'

/**
 * Issue 19.2: ownership held through a group (seed 003's Owners team, seed 002's ADMIN) is ownership. The
 * owner questions (last owner, every user owns an org) read owners bound directly and through groups alike.
 */
const OWNERS = ['owner']

describe.each(TARGETS)('owners through groups (%s)', (kind) => {
  const handle = useStore(kind)
  const db = () => handle.store.db
  const inTx = <T>(fn: (tx: Tx) => Promise<T>) => db().transaction().execute(fn)

  it('counts active members of a group bound to an owner role at the org as owners', async () => {
    const [org, other] = [await newOrg(db()), await newOrg(db())]
    const [creator, teammate, pending, direct, reader] = [
      await newUser(db()),
      await newUser(db()),
      await newUser(db()),
      await newUser(db()),
      await newUser(db()),
    ]
    for (const u of [creator, teammate, direct, reader]) await join(db(), org, u)
    await join(db(), org, pending, 'pending')
    const ownersTeam = await newGroup(db(), org, 'Owners')
    await bind(db(), { orgId: org, groupId: ownersTeam, role: 'owner' })
    const app = await newApp(db(), org)
    // A group holding the owner role only on a resource owns nothing; nor does a group of another org.
    const appTeam = await newGroup(db(), org, 'App')
    await bind(db(), { orgId: org, groupId: appTeam, role: 'owner', scope: { type: 'app', id: app } })
    await bind(db(), { orgId: org, userId: direct, role: 'owner' })
    await inTx(async (tx) => {
      for (const u of [creator, teammate, pending]) await groups.upsertGroupMember(tx, ownersTeam, u, null)
      await groups.upsertGroupMember(tx, appTeam, reader, null)
    })
    await inTx(async (tx) => {
      expect(await members.activeOwnerIds(tx, org, OWNERS)).toEqual(new Set([creator, teammate, direct]))
      expect(await members.activeOwnerIds(tx, other, OWNERS)).toEqual(new Set())
      // Several orgs at once (a removal reaching sub-orgs): the same owners, an org with none absent.
      expect(await members.activeOwnersByOrg(tx, [org, other], OWNERS)).toEqual(
        new Map([[org, new Set([creator, teammate, direct])]]),
      )
      expect(await members.activeOwnersByOrg(tx, [], OWNERS)).toEqual(new Map())
      // A role change reads the same owners in its one statement.
      expect((await members.roleChangeReads(tx, org, reader, 'team', OWNERS)).owners).toEqual(
        new Set([creator, teammate, direct]),
      )
      expect((await members.roleChangeReads(tx, other, reader, 'team', OWNERS)).owners).toEqual(new Set())
      expect(await members.usersOwningNoOrg(tx, [creator, reader, pending, direct], OWNERS)).toEqual(
        [reader, pending].sort(),
      )
    })
    // Leaving the Owners team takes the ownership it gave.
    await inTx((tx) => groups.deleteGroupMember(tx, ownersTeam, teammate))
    await inTx(async (tx) =>
      expect(await members.activeOwnerIds(tx, org, OWNERS)).toEqual(new Set([creator, direct])),
    )
  })

  it('lists the org roles members hold through groups, without per-member team bindings', async () => {
    const [org, other] = [await newOrg(db()), await newOrg(db())]
    const [ann, bob] = [await newUser(db()), await newUser(db())]
    const admins = await newGroup(db(), org, 'ADMIN')
    const everyone = await newGroup(db(), org, 'DEFAULT')
    const team = await newGroup(db(), org, 'Team', 'read')
    const elsewhere = await newGroup(db(), other, 'DEFAULT')
    await bind(db(), { orgId: org, groupId: admins, role: 'org_admin' })
    await bind(db(), { orgId: org, groupId: everyone, role: 'org_member' })
    await bind(db(), { orgId: org, groupId: team, role: 'team' })
    await bind(db(), { orgId: other, groupId: elsewhere, role: 'org_member' })
    await inTx(async (tx) => {
      await groups.upsertGroupMember(tx, admins, ann, null)
      for (const u of [ann, bob]) await groups.upsertGroupMember(tx, everyone, u, null)
      await groups.upsertGroupMember(tx, team, bob, 'write')
      await groups.upsertGroupMember(tx, elsewhere, bob, null)
    })
    const rows = await members.orgRolesThroughGroups(db(), [org], 'team')
    expect(
      rows.map((r) => [r.user_id, r.group_id, r.role]).sort((a, b) => a.join().localeCompare(b.join())),
    ).toEqual(
      [
        [ann, admins, 'org_admin'],
        [ann, everyone, 'org_member'],
        [bob, everyone, 'org_member'],
      ].sort((a, b) => a.join().localeCompare(b.join())),
    )
    expect(rows.every((r) => r.org_id === org)).toBe(true)
    expect(await members.orgRolesThroughGroups(db(), [], 'team')).toEqual([])
    // A role change's read: one member's, in one org, sorted; none through a group of another org.
    const reads = (userId: string, orgId = org) =>
      db()
        .transaction()
        .execute(async (tx) => (await members.roleChangeReads(tx, orgId, userId, 'team', OWNERS)).viaGroups)
    expect(await reads(ann)).toEqual(['org_admin', 'org_member'])
    expect(await reads(bob)).toEqual(['org_member'])
    expect(await reads(bob, other)).toEqual(['org_member'])
    expect(await reads(ann, other)).toEqual([])
  })

  it('names the users who are an active member of no org (seed 001), of those asked, skipping unknown ids', async () => {
    const [org, other] = [await newOrg(db()), await newOrg(db())]
    const [member, pending, nowhere, elsewhere] = [
      await newUser(db()),
      await newUser(db()),
      await newUser(db()),
      await newUser(db()),
    ]
    await join(db(), org, member)
    await join(db(), org, pending, 'pending')
    await join(db(), other, elsewhere)
    const unknown = '00000000-0000-4000-8000-000000000000'
    await inTx(async (tx) => {
      expect(await members.usersInNoOrg(tx, [member, pending, nowhere, elsewhere, unknown])).toEqual(
        [pending, nowhere].sort(),
      )
      expect(await members.usersInNoOrg(tx, [])).toEqual([])
    })
  })
})
