import { createHmac } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { useCapgoServer } from './support/fixtures.ts'
import { DATABASES, type Reply } from './support/harness.ts'

/**
 * Issue 19.4: security policies never lock anyone out silently. Whoever sets a policy meets it first; the
 * console can ask who else would be gated; a gated member sees the org and is told the requirement (403
 * MFA_REQUIRED / PASSWORD_POLICY, never 404); password compliance is known from the moment the password
 * was set, so saving a policy gates or keeps each member at once; the org's API Keys tab lists and revokes.
 */
const STRICT = {
  minLength: 16,
  requireUpper: true,
  requireDigit: true,
  requireSpecial: false,
  rejectCommon: true,
}
/** RFC 6238 (SHA-1, 6 digits, 30 s), written from the RFC as in api.accounts.test.ts. */
function totp(base32: string, at = Date.now()): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
  let bits = ''
  for (const ch of base32.replace(/=+$/, '')) bits += alphabet.indexOf(ch).toString(2).padStart(5, '0')
  const key = Buffer.from(bits.match(/.{8}/g)!.map((b) => Number.parseInt(b, 2)))
  const counter = Buffer.alloc(8)
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 1000 / 30)))
  const mac = createHmac('sha1', key).update(counter).digest()
  const offset = mac[mac.length - 1]! & 0xf
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0')
}

const policy = (over: Record<string, unknown> = {}) => ({
  requireMfa: false,
  passwordPolicy: null,
  apiKeyPolicy: null,
  ...over,
})

describe.each(DATABASES)('security policies that lock nobody out silently (%s)', (database) => {
  const { s, w } = useCapgoServer(database)
  let emails = 0

  const org = () => `/v1/orgs/${w.orgId}`

  /** A person who signed up with this password and verified their email (the mail is in the outbox). */
  async function signedUp(name: string, password: string): Promise<string> {
    const email = `${name.toLowerCase()}.${++emails}@policies.example.com`
    const reply = await s.platform.post('/v1/auth/signup', { email, password, name })
    expect(reply.body.status).toBe('verification_sent')
    const mail = (await s.platform.get('/v1/outbox')).body.items.find((m: { to: string }) => m.to === email)
    const token = (mail.text as string).match(/token=([\w-]+)/)![1]
    const verified = await s.platform.post('/v1/auth/verify', { token })
    expect(verified.status).toBe(200)
    return verified.body.userId as string
  }

  /** A fresh org whose creator signed up with a password that meets STRICT, and its revision. */
  async function strictOrg() {
    const owner = await signedUp('Owner', 'Correct-Horse-Battery-9')
    const orgId = (await s.as(owner).post('/v1/orgs', { name: 'Policies' })).body.id as string
    return { owner, orgId }
  }

  const readMembers = (userId: string, orgId: string, revision?: number) =>
    s.as(userId).post('/v1/check', {
      permission: 'org.read_members',
      resource: { org: orgId },
      ...(revision !== undefined && { atLeastRevision: revision }),
    })

  it('refuses a policy its setter fails, saying what to do first', async () => {
    // The creator has no second factor and no password (provisioned by the host product).
    const mfa = await s.as(w.users.creator).put(`${org()}/security`, policy({ requireMfa: true }))
    expect([mfa.status, mfa.body.code]).toEqual([409, 'POLICY_NOT_MET_BY_YOU'])
    expect(mfa.body.details.unmet).toEqual(['mfa'])
    const both = await s
      .as(w.users.creator)
      .put(`${org()}/security`, policy({ requireMfa: true, passwordPolicy: STRICT }))
    expect(both.body.details).toMatchObject({ unmet: ['mfa', 'password'], password: 'none' })
    // Nothing changed: the member still reads the org.
    expect((await s.as(w.users.creator).get(`${org()}/security`)).body.requireMfa).toBe(false)
    expect((await readMembers(w.users.member, w.orgId)).body.allowed).toBe(true)

    // With a password too weak for the policy: which rules it breaks, the setter's own.
    const weak = await signedUp('Weak', 'lowercase only words')
    const weakOrg = (await s.as(weak).post('/v1/orgs', { name: 'Weak' })).body.id as string
    const refused = await s.as(weak).put(`/v1/orgs/${weakOrg}/security`, policy({ passwordPolicy: STRICT }))
    expect([refused.status, refused.body.code]).toEqual([409, 'POLICY_NOT_MET_BY_YOU'])
    expect(refused.body.details).toMatchObject({
      unmet: ['password'],
      password: 'fails',
      rules: ['requireUpper', 'requireDigit'],
    })
  })

  it('previews who a proposed policy would gate, and whether the caller meets it', async () => {
    const { owner, orgId } = await strictOrg()
    const strong = await signedUp('Strong', 'Another-Long-Passphrase-7')
    const weak = await signedUp('Weakling', 'short but not common')
    const provisioned = await s.user('Provisioned')
    for (const userId of [strong, weak, provisioned])
      await s.platform.post(`/v1/orgs/${orgId}/members`, { userId, roles: ['org_member'] })
    const preview = await s
      .as(owner)
      .post(`/v1/orgs/${orgId}/security/preview`, policy({ passwordPolicy: STRICT }))
    expect([preview.status, preview.body]).toEqual([200, expect.anything()])
    const byId = Object.fromEntries(
      preview.body.items.map((i: { userId: string; unmet: string[]; password: string }) => [
        i.userId,
        [i.unmet, i.password],
      ]),
    )
    expect(byId).toEqual({ [weak]: [['password'], 'fails'], [provisioned]: [['password'], 'none'] })
    expect(preview.body).toMatchObject({ nonCompliant: 2, total: 4, you: { unmet: [], password: 'ok' } })
    // 2FA: nobody has it, the owner included; the preview says so before PUT refuses it.
    const mfa = await s.as(owner).post(`/v1/orgs/${orgId}/security/preview`, policy({ requireMfa: true }))
    expect(mfa.body).toMatchObject({ nonCompliant: 4, you: { unmet: ['mfa'] } })
    // Only those who manage the security policy may ask.
    const asMember = await s.as(strong).post(`/v1/orgs/${orgId}/security/preview`, policy())
    expect([asMember.status, asMember.body.code]).toEqual([403, 'FORBIDDEN'])
    const outsider = await s.as(w.users.outsider).post(`/v1/orgs/${orgId}/security/preview`, policy())
    expect(outsider.status).toBe(404)
  })

  it('knows password compliance the instant a policy is saved, nobody signing in again', async () => {
    const { owner, orgId } = await strictOrg()
    const strong = await signedUp('Keeper', 'Keeps-Access-Long-Pass-1')
    const weak = await signedUp('Gated', 'gated by the policy')
    for (const userId of [strong, weak])
      await s.platform.post(`/v1/orgs/${orgId}/members`, { userId, roles: ['org_member'] })
    const saved = await s.as(owner).put(`/v1/orgs/${orgId}/security`, policy({ passwordPolicy: STRICT }))
    expect(saved.status).toBe(200)
    expect((await readMembers(owner, orgId, saved.body.revision)).body.allowed).toBe(true)
    expect((await readMembers(strong, orgId, saved.body.revision)).body.allowed).toBe(true)
    expect((await readMembers(weak, orgId, saved.body.revision)).body).toMatchObject({
      allowed: false,
      reason: 'password_policy',
    })
    const compliance = (await s.as(owner).get(`/v1/orgs/${orgId}/security/compliance`)).body
    expect(compliance.nonCompliant).toBe(1)
    // The gated member changes their password: through at once.
    const changed = await s
      .as(weak)
      .post('/v1/me/password', { current: 'gated by the policy', next: 'Now-Strong-Enough-Pass-2' })
    expect(changed.status).toBe(200)
    expect((await readMembers(weak, orgId)).body.allowed).toBe(true)
    // A tighter policy later: known from the traits kept, again without anyone signing in.
    const tighter = { ...STRICT, minLength: 25 }
    const again = await s.as(owner).put(`/v1/orgs/${orgId}/security`, policy({ passwordPolicy: tighter }))
    expect([again.status, again.body.code]).toEqual([409, 'POLICY_NOT_MET_BY_YOU'])
    const same = await s
      .as(owner)
      .put(`/v1/orgs/${orgId}/security`, policy({ passwordPolicy: { ...STRICT, minLength: 20 } }))
    expect(same.status).toBe(200)
    expect((await readMembers(strong, orgId, same.body.revision)).body.allowed).toBe(true)
    expect((await readMembers(weak, orgId, same.body.revision)).body.allowed).toBe(true)
    // The password itself is kept nowhere but as its hash.
    const row = await s.ctx.db
      .selectFrom('users')
      .select(['password_traits'])
      .where('id', '=', strong)
      .executeTakeFirstOrThrow()
    expect(row.password_traits).toEqual({
      length: 24,
      upper: true,
      digit: true,
      special: true,
      common: false,
    })
  })

  it('tells a gated member the requirement on every org route: 403 with its code, never 404', async () => {
    const { owner, orgId } = await strictOrg()
    const gated = await signedUp('Gatedmember', 'weak but long enough')
    await s.platform.post(`/v1/orgs/${orgId}/members`, { userId: gated, roles: ['org_admin'] })
    const app = (await s.as(owner).post(`/v1/orgs/${orgId}/resources`, { type: 'app', name: 'App' })).body
      .id as string
    const saved = await s.as(owner).put(`/v1/orgs/${orgId}/security`, policy({ passwordPolicy: STRICT }))
    expect(saved.status).toBe(200)
    // The org is there for them (SPEC 1.4), in the list and by id.
    const listed = (await s.as(gated).get('/v1/orgs')).body.items.map((o: { id: string }) => o.id)
    expect(listed).toContain(orgId)
    expect((await s.as(gated).get(`/v1/orgs/${orgId}`)).status).toBe(200)
    // Every other read of the org, as the OpenAPI document lists them.
    const doc = (await s.platform.get('/v1/openapi.json')).body
    const reads = Object.entries(doc.paths as Record<string, Record<string, unknown>>)
      .filter(([path, ops]) => path.startsWith('/v1/orgs/{orgId}/') && 'get' in ops)
      .map(([path]) => path)
    const fill = (path: string) =>
      path
        .replace('{orgId}', orgId)
        .replace(/\/resources\/\{id\}/, `/resources/${app}`)
        .replace(/\{\w+\}/g, '00000000-0000-4000-8000-000000000000')
    const answers: Record<string, unknown> = {}
    for (const path of reads) {
      const reply = await s.as(gated).get(fill(path))
      answers[path] = reply.status === 403 ? reply.body.code : reply.status
    }
    // But two: the policy they must meet (to know what to fix) and the org's role catalogue (the words
    // the console shows them), both readable by anyone who belongs.
    const readable = new Set(['/v1/orgs/{orgId}/security', '/v1/orgs/{orgId}/roles'])
    const expected = Object.fromEntries(
      reads.map((path) => [path, readable.has(path) ? 200 : 'PASSWORD_POLICY']),
    )
    expect(reads).toContain('/v1/orgs/{orgId}/api-keys')
    expect(answers).toEqual(expected)
    // Writes too, and the check API explains it.
    const write = await s.as(gated).post(`/v1/orgs/${orgId}/resources`, { type: 'app', name: 'Nope' })
    expect([write.status, write.body.code]).toEqual([403, 'PASSWORD_POLICY'])
    const explained = await s
      .as(gated)
      .post('/v1/explain', { permission: 'app.read', resource: { type: 'app', id: app } })
    expect(explained.body).toMatchObject({ allowed: false, reason: 'password_policy' })
  })

  it('says MFA_REQUIRED to a member gated by 2FA, and lets an enrolled owner turn it on', async () => {
    const { owner, orgId } = await strictOrg()
    const enrol = await s.as(owner).post('/v1/me/mfa/totp')
    expect(
      (await s.as(owner).post('/v1/me/mfa/totp/confirm', { code: totp(enrol.body.secret) })).status,
    ).toBe(200)
    const member = await s.user('Nomfa')
    await s.platform.post(`/v1/orgs/${orgId}/members`, { userId: member, roles: ['org_member'] })
    const saved = await s.as(owner).put(`/v1/orgs/${orgId}/security`, policy({ requireMfa: true }))
    expect(saved.status).toBe(200)
    const members = await s.as(member).get(`/v1/orgs/${orgId}/members`)
    expect([members.status, members.body.code]).toEqual([403, 'MFA_REQUIRED'])
    const resources = await s.as(member).get(`/v1/orgs/${orgId}/resources`)
    expect([resources.status, resources.body.code]).toEqual([403, 'MFA_REQUIRED'])
    expect((await s.as(member).get(`/v1/orgs/${orgId}`)).status).toBe(200)
  })

  it("lists the members' API keys that reach the org, and lets org.manage_apikeys revoke them", async () => {
    const dev = await s.user('Keydev')
    await s.platform.post(`${org()}/members`, { userId: dev, roles: ['org_member'] })
    const elsewhere = (await s.as(dev).post('/v1/orgs', { name: 'Dev side project' })).body.id as string
    const scoped = (await s.as(dev).post('/v1/me/api-keys', { name: 'ci', orgIds: [w.orgId] })).body
    const everywhere = (await s.as(dev).post('/v1/me/api-keys', { name: 'laptop' })).body
    const other = (await s.as(dev).post('/v1/me/api-keys', { name: 'side', orgIds: [elsewhere] })).body
    const bearer = (secret: string) => (method: string, path: string) =>
      fetch(s.url + path, { method, headers: { authorization: `Bearer ${secret}` } }).then(
        async (r): Promise<Reply> => ({
          status: r.status,
          body: await r.json(),
        }),
      )
    // An admin's own API key, which carries org.manage_apikeys, reads the tab.
    const adminKey = (await s.as(w.users.admin).post('/v1/me/api-keys', { name: 'admin', orgIds: [w.orgId] }))
      .body
    const listed = await bearer(adminKey.secret)('GET', `${org()}/api-keys`)
    expect(listed.status).toBe(200)
    const mine = listed.body.items.filter((k: { owner: { userId: string } }) => k.owner.userId === dev)
    expect(mine.map((k: { name: string }) => k.name).sort()).toEqual(['ci', 'laptop'])
    expect(mine.find((k: { id: string }) => k.id === scoped.id)).toMatchObject({
      prefix: scoped.prefix,
      orgIds: [w.orgId],
      expiresAt: null,
      owner: { userId: dev, name: 'Keydev' },
    })
    expect(JSON.stringify(listed.body)).not.toContain(scoped.secret)
    expect(listed.body.items.map((k: { id: string }) => k.id)).not.toContain(other.id)

    // Without the permission: 403; from outside: 404.
    for (const user of [w.users.member, w.users.billing, w.users.appAdmin]) {
      const reply = await s.as(user).get(`${org()}/api-keys`)
      expect([reply.status, reply.body.code]).toEqual([403, 'FORBIDDEN'])
      const revoke = await s.as(user).delete(`${org()}/api-keys/${scoped.id}`)
      expect([revoke.status, revoke.body.code]).toEqual([403, 'FORBIDDEN'])
    }
    expect((await s.as(w.users.outsider).get(`${org()}/api-keys`)).status).toBe(404)
    // A key that doesn't reach this org isn't this org's to revoke.
    const foreign = await s.as(w.users.admin).delete(`${org()}/api-keys/${other.id}`)
    expect([foreign.status, foreign.body.code]).toEqual([404, 'NOT_FOUND'])

    const revoked = await s.as(w.users.admin).delete(`${org()}/api-keys/${everywhere.id}`)
    expect(revoked.status).toBe(200)
    expect((await bearer(everywhere.secret)('GET', '/v1/me')).status).toBe(401)
    expect((await bearer(scoped.secret)('GET', '/v1/me')).status).toBe(200)
    const after = (await s.as(w.users.creator).get(`${org()}/api-keys`)).body.items.map(
      (k: { id: string }) => k.id,
    )
    expect(after).not.toContain(everywhere.id)
    const again = await s.as(w.users.admin).delete(`${org()}/api-keys/${everywhere.id}`)
    expect(again.status).toBe(404)
    const audit = await s.as(w.users.creator).get(`${org()}/audit-logs?action=api_key.revoked`)
    expect(audit.body.items[0]).toMatchObject({
      action: 'api_key.revoked',
      target: { type: 'api_key', id: everywhere.id },
    })

    // The super admin's key is not an admin's to revoke.
    const top = (await s.as(w.users.creator).post('/v1/me/api-keys', { name: 'top', orgIds: [w.orgId] })).body
    const above = await s.as(w.users.admin).delete(`${org()}/api-keys/${top.id}`)
    expect([above.status, above.body.code]).toEqual([403, 'RANK_TOO_LOW'])
    expect((await s.as(w.users.creator).delete(`${org()}/api-keys/${adminKey.id}`)).status).toBe(200)
  })
})
