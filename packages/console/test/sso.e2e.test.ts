import { randomUUID } from 'node:crypto'
import { orgDomains } from '@orgkit/store'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TestServer } from '../../server/test/support/harness.ts'
import { startTestIdp, type TestIdp } from '../../server/test/support/oidc-idp.ts'
import { actAs, consoleSession, createOrgApi, fetchAs, go, newPage, someone } from './e2e-support.ts'

// Issue 21.1 in headless Chromium: the org's SSO tab (create an OIDC connection, test it against a real
// OpenID Provider on loopback, enable it, edit its mapping, copy the redirect URI, require SSO), then a
// person of the verified domain signing in through "Use single sign-on" — the real IdP's redirects, the
// callback, and the console signed in with their mapped group.
const session = consoleSession('sso')
const { pages, shot } = session
let server: TestServer
let idp: TestIdp
const domain = `acme-${randomUUID().slice(0, 8)}.test`
beforeAll(async () => {
  server = session.server
  idp = await startTestIdp({ redirectUris: [`${server.url}/v1/auth/sso/callback`] })
})
afterAll(() => idp?.stop())

describe('SSO connections and sign-in (Chromium, capgo preset)', () => {
  it('creates, tests and enables a connection with its mapping, then signs a person in through the IdP', async () => {
    // One page: the owner's, then Sam's signed out (actAs), then the owner's session again for a last call. A
    // second browser context would be a cold renderer compiling the console and axe-core again (~2 s of CPU).
    const olivia = await someone(server, 'Olivia Owner', `olivia@${domain}`)
    const { userId } = olivia
    const owner = await newPage(session.browser)
    pages.push(owner)
    await actAs(owner, server, olivia)
    const orgId = await createOrgApi(server, userId, 'Acme')
    await server.store.db.transaction().execute(async (tx) => {
      const claim = await orgDomains.insertClaim(
        tx,
        { id: randomUUID(), orgId, domain, token: randomUUID(), createdBy: null },
        new Date(),
      )
      await orgDomains.markVerified(tx, orgId, claim.id, new Date())
    })
    const eng = await fetchAs(owner, 'POST', `/v1/orgs/${orgId}/groups`, { name: 'Engineering' })
    expect(eng.status).toBe(201)

    await go(owner, `${server.url}/orgs/${orgId}/settings/sso`)
    await owner.getByText('No connections yet.').waitFor()
    await owner.getByLabel('Connection name').fill('Test IdP')
    await owner.getByLabel('Issuer URL').fill(idp.issuer)
    await owner.getByLabel('Client ID').fill('orgkit')
    await owner.getByLabel('Client secret').fill('orgkit-secret')
    await owner.getByRole('button', { name: 'Create connection' }).click()
    const card = owner.getByRole('region', { name: 'SSO connection Test IdP' })
    await card.getByText('Not tested').waitFor()
    await card.getByText(`${server.url}/v1/auth/sso/callback`).waitFor()
    await card.getByRole('button', { name: 'Test connection' }).click()
    await card.getByText('Tested', { exact: true }).waitFor()
    await card.getByRole('switch', { name: 'Enabled' }).click()
    // The card's badge, not the switch's own label (also "Enabled"), says the connection is on.
    await card.locator('.mantine-Badge-label').getByText('Enabled', { exact: true }).waitFor()

    // The mapping: IdP group "eng" → the Engineering group, visible as a row once saved.
    await card.getByRole('textbox', { name: 'IdP group' }).fill('eng')
    await card.getByRole('combobox', { name: 'Gives' }).click()
    await owner.getByRole('option', { name: 'Engineering' }).click()
    await card.getByRole('button', { name: 'Add rule' }).click()
    await card.getByRole('button', { name: 'Save mapping' }).click()
    const mapping = card.getByRole('table', { name: 'IdP group mapping' })
    await mapping.getByRole('cell', { name: 'Engineering' }).waitFor()
    const stored = await fetchAs(owner, 'GET', `/v1/orgs/${orgId}/sso-connections`)
    expect(stored.body.items[0].mappings).toEqual([{ idpGroup: 'eng', groupId: eng.body.id }])

    // SSO required, with the owner as break-glass (the default choice).
    await owner.getByRole('switch', { name: 'Require SSO for our verified domains' }).click()
    await owner.getByText('SSO is now required').waitFor()
    await shot(owner, '01-sso-tab')

    // A person of the domain, new to Orgkit: the password form sends them on, the IdP signs them in.
    idp.people.set('sub-sam', {
      email: `sam@${domain}`,
      emailVerified: true,
      name: 'Sam SSO',
      groups: ['eng'],
    })
    idp.next = 'sub-sam'
    // Sam at the page signed out: no one's cookies or stored state, as a fresh browser has.
    const sam = owner
    await actAs(sam, server, null)
    await sam.goto(`${server.url}/login`)
    await sam.getByLabel('Email').fill(`sam@${domain}`)
    await sam.getByRole('textbox', { name: 'Password' }).fill('any password at all')
    await sam.getByRole('button', { name: 'Sign in', exact: true }).click()
    await sam.getByText('Your organization signs you in with single sign-on').waitFor()
    await sam.getByRole('button', { name: 'Continue with SSO' }).click()
    await sam.waitForURL((url) => url.origin === server.url && !url.pathname.startsWith('/login'))
    await shot(sam, '02-signed-in-through-sso')
    const me = await fetchAs(sam, 'GET', '/v1/me')
    expect(me.body).toMatchObject({ email: `sam@${domain}`, name: 'Sam SSO' })
    await actAs(owner, server, olivia)
    const members = await fetchAs(owner, 'GET', `/v1/orgs/${orgId}/members`)
    const member = members.body.items.find((m: { email: string }) => m.email === `sam@${domain}`)
    expect(member).toMatchObject({ status: 'active', roles: ['org_member'] })
    expect(member.groups.map((g: { name: string }) => g.name)).toContain('Engineering')
  })
})
