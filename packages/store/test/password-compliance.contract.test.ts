import { randomUUID } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { apiKeys, orgSecurity, type Tx, users } from '../src/index.ts'
import { TARGETS, useStore } from './support/targets.ts'

/**
 * Issue 19.4: a password's traits kept at set time, compliance granted when a policy is saved, who a
 * policy reaches, and the keys an org's API Keys tab lists.
 */
describe.each(TARGETS)('password compliance and org API keys (%s)', (kind) => {
  const handle = useStore(kind)
  const db = () => handle.store.db
  const inTx = <T>(fn: (tx: Tx) => Promise<T>) => db().transaction().execute(fn)
  const newOrg = async () => {
    const id = randomUUID()
    await db()
      .insertInto('orgs')
      .values({ id, parent_id: null, name: 'Org', password_policy: null })
      .execute()
    return id
  }
  const newUser = async (name: string, passwordHash: string | null = null) => {
    const id = randomUUID()
    await inTx((tx) => users.insertUser(tx, { id, email: `${name}-${id}@example.com`, name, passwordHash }))
    return id
  }
  const traits = (over: Partial<orgSecurity.PasswordTraits> = {}): orgSecurity.PasswordTraits => ({
    length: 20,
    upper: true,
    digit: true,
    special: false,
    common: false,
    ...over,
  })
  const rules = (over: Partial<orgSecurity.PasswordRules> = {}): orgSecurity.PasswordRules => ({
    minLength: 16,
    requireUpper: true,
    requireDigit: false,
    requireSpecial: false,
    rejectCommon: true,
    ...over,
  })
  const userRow = (id: string) =>
    db()
      .selectFrom('users')
      .select(['password_traits', 'compliant_password_policies', 'password_hash'])
      .where('id', '=', id)
      .executeTakeFirstOrThrow()

  it('keeps a password’s traits and compliant ids, with the user.put the engine gates on', async () => {
    const id = await newUser('set', 'argon-hash')
    const result = await inTx((tx) => orgSecurity.setPasswordCompliance(tx, id, traits(), ['pw_a', 'pw_b']))
    expect(result.changes).toEqual([
      { op: 'user.put', user: { id, mfaEnabled: false, compliantPasswordPolicies: ['pw_a', 'pw_b'] } },
    ])
    expect(await userRow(id)).toEqual({
      password_traits: traits(),
      compliant_password_policies: ['pw_a', 'pw_b'],
      password_hash: 'argon-hash',
    })
    await inTx((tx) => orgSecurity.setPasswordCompliance(tx, id, null, []))
    expect(await userRow(id)).toMatchObject({ password_traits: null, compliant_password_policies: [] })
  })

  it('grants a saved policy to exactly the users whose traits meet it, once', async () => {
    const policyId = `pw_${randomUUID()}`
    const make = async (name: string, t: orgSecurity.PasswordTraits | null, ids: string[] = []) => {
      const id = await newUser(name, 'hash')
      await inTx((tx) => orgSecurity.setPasswordCompliance(tx, id, t, ids))
      return id
    }
    const meets = await make('meets', traits(), ['pw_other'])
    const short = await make('short', traits({ length: 15 }))
    const lower = await make('lower', traits({ upper: false }))
    const common = await make('common', traits({ common: true }))
    const unknown = await make('unknown', null)
    const had = await make('had', traits(), [policyId])
    const granted = await inTx((tx) => orgSecurity.grantCompliance(tx, policyId, rules()))
    expect(granted.value.userIds).toEqual([meets])
    expect(granted.changes).toEqual([
      {
        op: 'user.put',
        user: { id: meets, mfaEnabled: false, compliantPasswordPolicies: ['pw_other', policyId] },
      },
    ])
    for (const id of [short, lower, common, unknown])
      expect((await userRow(id)).compliant_password_policies).not.toContain(policyId)
    expect((await userRow(had)).compliant_password_policies).toEqual([policyId])
    // Saved again (another org, same rules): nothing left to grant, no change.
    const again = await inTx((tx) => orgSecurity.grantCompliance(tx, policyId, rules()))
    expect(again).toEqual({ value: { userIds: [] }, changes: [] })
    // Each rule read from the traits: a digit, a special character, a common password allowed.
    const loose = `pw_${randomUUID()}`
    const byRules = await inTx((tx) =>
      orgSecurity.grantCompliance(
        tx,
        loose,
        rules({ requireUpper: false, requireDigit: true, rejectCommon: false }),
      ),
    )
    expect(byRules.value.userIds).toEqual(expect.arrayContaining([meets, lower, common, had]))
    expect(byRules.value.userIds).not.toContain(short)
    const special = await inTx((tx) =>
      orgSecurity.grantCompliance(tx, `pw_${randomUUID()}`, rules({ requireSpecial: true, minLength: 8 })),
    )
    expect(special.value.userIds).not.toContain(meets)
  })

  it('finds everyone who reaches the orgs: members, their own bindings, their groups; not invitees', async () => {
    const org = await newOrg()
    const other = await newOrg()
    const member = await newUser('member', 'hash')
    const external = await newUser('external')
    const grouped = await newUser('grouped')
    const invited = await newUser('invited')
    const elsewhere = await newUser('elsewhere')
    await db()
      .insertInto('memberships')
      .values([
        { org_id: org, user_id: member, status: 'active' },
        { org_id: org, user_id: invited, status: 'pending' },
        { org_id: other, user_id: elsewhere, status: 'active' },
      ])
      .execute()
    const resource = randomUUID()
    await db()
      .insertInto('resources')
      .values({ id: resource, org_id: org, type: 'app', parent_id: null, name: 'A' })
      .execute()
    await db()
      .insertInto('bindings')
      .values({
        id: randomUUID(),
        org_id: org,
        user_id: external,
        group_id: null,
        role: 'app_reader',
        scope_type: 'app',
        resource_id: resource,
        expires_at: null,
        granted_by: null,
        reason: null,
      })
      .execute()
    const group = randomUUID()
    await db().insertInto('groups').values({ id: group, org_id: org, name: 'G', role: null }).execute()
    await db()
      .insertInto('group_members')
      .values({ group_id: group, user_id: grouped, member_role: null })
      .execute()
    await inTx((tx) => orgSecurity.setPasswordCompliance(tx, member, traits(), ['pw_x']))

    const people = await orgSecurity.peopleOf(db(), [org])
    expect(people.map((p) => p.id).sort()).toEqual([member, external, grouped].sort())
    expect(people.find((p) => p.id === member)).toMatchObject({
      name: 'member',
      mfa_enabled: false,
      has_password: true,
      password_traits: traits(),
      compliant_password_policies: ['pw_x'],
    })
    expect(people.find((p) => p.id === external)).toMatchObject({
      has_password: false,
      password_traits: null,
    })
    expect(people.map((p) => p.email)).toEqual([...people.map((p) => p.email)].sort())
    expect((await orgSecurity.peopleOf(db(), [org, other])).map((p) => p.id)).toContain(elsewhere)
    expect(await orgSecurity.peopleOf(db(), [])).toEqual([])
    expect(await orgSecurity.personState(db(), member)).toMatchObject({ id: member, has_password: true })
    expect(await orgSecurity.personState(db(), randomUUID())).toBeUndefined()
  })

  it('lists the live keys of the users asked for, with their owner, and finds one by id', async () => {
    const ann = await newUser('ann')
    const bob = await newUser('bob')
    const key = async (userId: string, name: string) => {
      const id = randomUUID()
      await inTx((tx) =>
        apiKeys.insertApiKey(tx, {
          id,
          userId,
          name,
          prefix: `okk_${id.slice(0, 8)}`,
          secretHash: `hash-${id}`,
          orgIds: null,
          resourceIds: null,
          permissions: null,
          expiresAt: null,
        }),
      )
      return id
    }
    const annKey = await key(ann, 'ann ci')
    const revoked = await key(ann, 'old')
    await key(bob, 'bob ci')
    await inTx((tx) => apiKeys.revokeApiKey(tx, revoked, ann, new Date()))
    const rows = await apiKeys.listLiveKeysOf(db(), [ann])
    expect(rows.map((r) => [r.id, r.name, r.owner_name])).toEqual([[annKey, 'ann ci', 'ann']])
    expect(Object.keys(rows[0]!)).not.toContain('secret_hash')
    expect(await apiKeys.listLiveKeysOf(db(), [])).toEqual([])
    expect(await apiKeys.findApiKey(db(), revoked)).toMatchObject({ id: revoked, user_id: ann })
    expect(await apiKeys.findApiKey(db(), randomUUID())).toBeUndefined()
  })
})
