import { randomUUID } from 'node:crypto'
import { presets } from '@orgkit/core'
import { orgDomains } from '@orgkit/store'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DATABASES, startTestServer, type TestServer } from './support/harness.ts'
import { ScriptedBrowser, signInThroughIdp, startTestIdp, type TestIdp } from './support/oidc-idp.ts'
import { type Person, signUp } from './support/sessions.ts'

/**
 * Seed 003's "Team Mapping": "control a user's access level simply by assigning them to a group in your
 * Identity Provider" (issue 21.1), on the `teams` preset against a real OpenID Provider. Without single-role
 * teams the rule's level is the member's own; with them on, the IdP group picks the team and so the level.
 */
describe.each(DATABASES)('SSO team mapping, seed 003 (%s)', (database) => {
  let s: TestServer
  let idp: TestIdp
  let olga: Person
  let org: string
  let readers: string
  let admins: string
  const domain = `copia-${randomUUID().slice(0, 8)}.test`
  const team = async (name: string, level: string) => {
    const id = (await olga.post(`/v1/orgs/${org}/groups`, { name, role: level })).body.id as string
    expect(
      (await olga.post(`/v1/orgs/${org}/bindings`, { principal: { type: 'group', id }, role: 'team' }))
        .status,
    ).toBe(201)
    return id
  }
  const place = async (teamId: string, email: string) =>
    (await olga.get(`/v1/orgs/${org}/groups/${teamId}`)).body.members.find(
      (m: { email: string }) => m.email === email,
    )

  beforeAll(async () => {
    s = await startTestServer(database, { model: presets.teams! })
    idp = await startTestIdp({ redirectUris: [`${s.url}/v1/auth/sso/callback`] })
    olga = await signUp(s, 'Olga', `olga@${domain}`)
    org = (await olga.post('/v1/orgs', { name: 'copia' })).body.id
    await s.store.db.transaction().execute(async (tx) => {
      const claim = await orgDomains.insertClaim(
        tx,
        { id: randomUUID(), orgId: org, domain, token: randomUUID(), createdBy: null },
        new Date(),
      )
      await orgDomains.markVerified(tx, org, claim.id, new Date())
    })
    readers = await team('Readers', 'read')
    admins = await team('Admins', 'admin')
    const made = await olga.post(`/v1/orgs/${org}/sso-connections`, {
      kind: 'oidc',
      name: 'IdP',
      config: { issuer: idp.issuer, clientId: 'orgkit', clientSecret: 'orgkit-secret', scopes: ['groups'] },
      mappings: [
        { idpGroup: 'eng', groupId: readers, level: 'write' },
        { idpGroup: 'eng-admins', groupId: admins },
      ],
    })
    expect(made.status).toBe(201)
    expect(
      (await olga.patch(`/v1/orgs/${org}/sso-connections/${made.body.id}`, { enabled: true })).status,
    ).toBe(200)
  }, 120_000)
  afterAll(async () => {
    await idp?.stop()
    await s?.stop()
  })

  it("sets a member's own level without single-role teams; with them on, the IdP group picks the team and its level", async () => {
    const email = `pat@${domain}`
    idp.people.set('sub-pat', { email, emailVerified: true, groups: ['eng'] })
    expect((await signInThroughIdp(new ScriptedBrowser(), s.url, idp, 'sub-pat', { email })).pathname).toBe(
      '/',
    )
    expect(await place(readers, email)).toMatchObject({ memberRole: 'write', effectiveRole: 'write' })
    expect(await place(admins, email)).toBeUndefined()

    expect((await olga.patch(`/v1/orgs/${org}`, { singleRoleTeams: true })).status).toBe(200)
    // Turning the switch on the first time sets every team to the lowest level (seed 003): Admins again.
    expect((await olga.patch(`/v1/orgs/${org}/groups/${admins}`, { role: 'admin' })).status).toBe(200)
    idp.people.set('sub-pat', { email, emailVerified: true, groups: ['eng-admins'] })
    await signInThroughIdp(new ScriptedBrowser(), s.url, idp, 'sub-pat', { email })
    expect(await place(readers, email)).toBeUndefined()
    expect(await place(admins, email)).toMatchObject({ effectiveRole: 'admin' })
  })
})
