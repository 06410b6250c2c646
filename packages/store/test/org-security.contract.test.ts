import { randomUUID } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { orgSecurity, type Tx, users } from '../src/index.ts'
import { TARGETS, useStore } from './support/targets.ts'

describe.each(TARGETS)('org security repository (%s)', (kind) => {
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
  const newUser = async (email: string, mfa = false, policies: string[] = []) => {
    const id = randomUUID()
    await inTx((tx) => users.insertUser(tx, { id, email, name: email.split('@')[0]! }))
    await db()
      .updateTable('users')
      .set({ mfa_enabled: mfa, compliant_password_policies: policies })
      .where('id', '=', id)
      .execute()
    return id
  }
  const strict = { minLength: 14, requireSymbol: true, tag: randomUUID() }

  it('reads an org’s policy: none at first, nothing for an unknown org', async () => {
    const org = await newOrg()
    expect(await orgSecurity.findPolicy(db(), org)).toEqual({
      require_mfa: false,
      password_policy: null,
      api_key_policy: null,
    })
    expect(await orgSecurity.findPolicy(db(), randomUUID())).toBeUndefined()
    expect(await orgSecurity.findRequirements(db(), randomUUID())).toBeUndefined()
  })

  it('sets a policy, with the org.put the engine’s gates read, and clears it again', async () => {
    const org = await newOrg()
    const now = new Date('2030-01-01T00:00:00Z')
    const set = await inTx((tx) =>
      orgSecurity.updatePolicy(
        tx,
        org,
        {
          requireMfa: true,
          passwordPolicy: strict,
          passwordPolicyId: 'pp-1',
          apiKeyPolicy: { requireExpiry: true, maxDays: 30 },
        },
        now,
      ),
    )
    expect(set.value).toMatchObject({
      id: org,
      require_mfa: true,
      password_policy_id: 'pp-1',
      updated_at: now,
    })
    expect(set.changes).toEqual([
      {
        op: 'org.put',
        org: {
          id: org,
          parentId: null,
          creatorId: null,
          singleRoleTeams: false,
          requireMfa: true,
          passwordPolicyId: 'pp-1',
        },
      },
    ])
    expect(await orgSecurity.findPolicy(db(), org)).toEqual({
      require_mfa: true,
      password_policy: strict,
      api_key_policy: { requireExpiry: true, maxDays: 30 },
    })
    expect(await orgSecurity.findRequirements(db(), org)).toEqual({
      require_mfa: true,
      password_policy_id: 'pp-1',
    })

    const cleared = await inTx((tx) =>
      orgSecurity.updatePolicy(
        tx,
        org,
        { requireMfa: false, passwordPolicy: null, passwordPolicyId: null, apiKeyPolicy: null },
        now,
      ),
    )
    expect(cleared.changes).toEqual([
      {
        op: 'org.put',
        org: {
          id: org,
          parentId: null,
          creatorId: null,
          singleRoleTeams: false,
          requireMfa: false,
          passwordPolicyId: null,
        },
      },
    ])
    expect(await orgSecurity.findPolicy(db(), org)).toEqual({
      require_mfa: false,
      password_policy: null,
      api_key_policy: null,
    })
    await expect(
      inTx((tx) =>
        orgSecurity.updatePolicy(
          tx,
          randomUUID(),
          { requireMfa: true, passwordPolicy: null, passwordPolicyId: null, apiKeyPolicy: null },
          now,
        ),
      ),
    ).rejects.toThrow()
  })

  it('lists each distinct password policy once, whatever number of orgs have it', async () => {
    const policy = { minLength: 20, tag: randomUUID() }
    for (const org of [await newOrg(), await newOrg()]) {
      await inTx((tx) =>
        orgSecurity.updatePolicy(
          tx,
          org,
          {
            requireMfa: false,
            passwordPolicy: policy,
            passwordPolicyId: `id-${policy.tag}`,
            apiKeyPolicy: null,
          },
          new Date(),
        ),
      )
    }
    const all = await orgSecurity.passwordPolicies(db())
    expect(all.filter((p) => (p as { tag?: string }).tag === policy.tag)).toEqual([policy])
    expect(all).not.toContain(null)
  })

  it('reads the API key policies of the orgs asked for', async () => {
    const [a, b, c] = [await newOrg(), await newOrg(), await newOrg()]
    await inTx((tx) =>
      orgSecurity.updatePolicy(
        tx,
        a,
        {
          requireMfa: false,
          passwordPolicy: null,
          passwordPolicyId: null,
          apiKeyPolicy: { requireExpiry: true },
        },
        new Date(),
      ),
    )
    const rows = await orgSecurity.apiKeyPolicies(db(), [a, b])
    expect(rows).toHaveLength(2)
    expect(rows).toEqual(
      expect.arrayContaining([
        { id: a, api_key_policy: { requireExpiry: true } },
        { id: b, api_key_policy: null },
      ]),
    )
    expect(rows.map((r) => r.id)).not.toContain(c)
    expect(await orgSecurity.apiKeyPolicies(db(), [])).toEqual([])
  })

  it('lists active members with their 2FA and password compliance, by email', async () => {
    const org = await newOrg()
    const zoe = await newUser(`zoe-${org}@example.com`, true, ['pp-1'])
    const amy = await newUser(`amy-${org}@example.com`, false, [])
    const invited = await newUser(`ivy-${org}@example.com`)
    const elsewhere = await newUser(`eli-${org}@example.com`)
    await db()
      .insertInto('memberships')
      .values([
        { org_id: org, user_id: zoe, status: 'active' },
        { org_id: org, user_id: amy, status: 'active' },
        { org_id: org, user_id: invited, status: 'pending' },
        { org_id: await newOrg(), user_id: elsewhere, status: 'active' },
      ])
      .execute()
    expect(await orgSecurity.memberCredentials(db(), org)).toEqual([
      {
        id: amy,
        email: `amy-${org}@example.com`,
        name: `amy-${org}`,
        mfa_enabled: false,
        compliant_password_policies: [],
      },
      {
        id: zoe,
        email: `zoe-${org}@example.com`,
        name: `zoe-${org}`,
        mfa_enabled: true,
        compliant_password_policies: ['pp-1'],
      },
    ])
  })
})
