import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startDnsServer, type TestDnsServer } from '../../server/test/support/dns-server.ts'
import type { TestServer } from '../../server/test/support/harness.ts'
import {
  actAs,
  addMember,
  consoleSession,
  createOrgApi,
  fetchAs,
  go,
  newPage,
  person,
  pick,
  someone,
} from './e2e-support.ts'

// Issue 19.4 in headless Chromium (capgo preset): the Security tab's preview before saving (refused for a
// setter who fails the policy, a confirm naming who else would be gated), the gated member's banner that
// leads to the fix, and the org's API Keys tab. And issue 21.2's Domains tab, verified against a real DNS
// server on loopback, with the suggestion a person of that domain is shown.
let dns: TestDnsServer
beforeAll(async () => {
  dns = await startDnsServer()
})
afterAll(() => dns?.close())
const session = consoleSession('security-policies', () => ({ dnsResolver: dns.address, dnsTimeoutMs: 200 }))
const { pages, shot } = session
let server: TestServer
let browser: Browser
/**
 * The page the owners and Pat use in turn (actAs), where no other session must stay live beside theirs: a new
 * browser context each would be a cold renderer compiling the console and axe-core again (~2 s of CPU).
 */
let tab: Page
beforeAll(async () => {
  ;({ server, browser } = session)
  tab = await newPage(browser)
  pages.push(tab)
})

/** The tab, signed up and in as a new person: the next `go` loads the console as them. */
const tabAs = async (name: string, email: string) => {
  const who = await someone(server, name, email)
  await actAs(tab, server, who)
  return { page: tab, userId: who.userId }
}

describe('security policies that lock nobody out silently (Chromium, capgo preset)', () => {
  it('previews, confirms, shows the gated member a banner to the fix, and lists org API keys', async () => {
    const { page: owner, userId } = await tabAs('Olivia Owner', 'owner@example.com')
    const orgId = await createOrgApi(server, userId, 'Acme')
    await addMember(server, orgId, 'Mia Provisioned', 'mia@example.com', ['org_member'])
    const { page: sam, userId: samId } = await person(server, browser, 'Sam Member', 'sam@example.com')
    pages.push(sam)
    await server.platform.post(`/v1/orgs/${orgId}/members`, { userId: samId, roles: ['org_member'] })
    const changed = await fetchAs(sam, 'POST', '/v1/me/password', {
      current: 'correct horse battery staple',
      next: 'weakpass99',
    })
    expect(changed.status).toBe(200)

    // The default password policy asks for an upper-case letter and a digit: the owner's password has
    // neither, so saving is refused before anything changes, with the way to fix it.
    await go(owner, `${server.url}/orgs/${orgId}/settings/security`)
    await owner.getByRole('switch', { name: 'Password policy' }).click()
    await owner.getByRole('button', { name: 'Save' }).click()
    const self = owner.getByTestId('policy-self')
    await self.getByText(/Saving it would lock you out. First: change your password/).waitFor()
    await self.getByRole('button', { name: 'Change your password' }).waitFor()
    await shot(owner, '01-refused-for-the-setter')

    // Without those two rules the owner complies; Mia (no password) and Sam (too short) would not.
    await owner.getByRole('checkbox', { name: 'Uppercase' }).click()
    await owner.getByRole('checkbox', { name: 'Digit' }).click()
    await owner.getByRole('button', { name: 'Save' }).click()
    const preview = owner.getByTestId('policy-preview')
    await preview.waitFor()
    await preview.getByText('Mia Provisioned').waitFor()
    await preview.getByText('Sam Member').waitFor()
    expect(await preview.getByText('Olivia Owner').count()).toBe(0)
    await shot(owner, '02-confirm-who-is-gated')
    await owner.getByRole('button', { name: 'Save anyway' }).click()
    await owner.getByText('Security policy saved').waitFor()
    expect((await server.platform.get(`/v1/orgs/${orgId}/security`)).body.passwordPolicy.minLength).toBe(12)

    // Sam sees the org, and a banner that leads to the fix; once changed, the settings are back.
    await go(sam, `${server.url}/orgs/${orgId}/settings/members`)
    const banner = sam.getByTestId('policy-gate')
    await banner.getByText("Your password doesn't meet this organization's password policy").waitFor()
    await shot(sam, '03-gated-member-banner')
    await banner.getByRole('button', { name: 'Change your password' }).click()
    await sam.waitForURL(/\/account#password$/)
    await sam.getByLabel('Current password').fill('weakpass99')
    await sam.getByLabel('New password').fill('a much longer passphrase')
    await sam.getByRole('button', { name: 'Change password' }).click()
    await sam.getByText('Password changed').waitFor()
    await go(sam, `${server.url}/orgs/${orgId}/settings/members`)
    await sam.getByRole('tab', { name: 'Members' }).waitFor()
    expect(await sam.getByTestId('policy-gate').count()).toBe(0)

    // The API Keys tab: Sam's key, its prefix, never its secret; the owner revokes it.
    const key = await fetchAs(sam, 'POST', '/v1/me/api-keys', { name: 'ci', orgIds: [orgId] })
    expect(key.status).toBe(201)
    await go(owner, `${server.url}/orgs/${orgId}/settings/api-keys`)
    const table = owner.getByRole('table', { name: 'Organization API keys' })
    await table.getByText('Sam Member').waitFor()
    await table.getByText(`${key.body.prefix}…`).waitFor()
    expect(await owner.content()).not.toContain(key.body.secret)
    await shot(owner, '04-org-api-keys')
    await table.getByRole('button', { name: 'Revoke' }).click()
    await owner.getByRole('dialog').getByRole('button', { name: 'Revoke' }).click()
    await owner.getByText('API key revoked').waitFor()
    await owner.getByText('No member has an API key that reaches this organization.').waitFor()
  }, 240_000)

  it('adds a domain, shows its TXT record, verifies it in place, and suggests the org to its people', async () => {
    const { page: owner, userId } = await tabAs('Dora Domains', 'dora@example.com')
    const orgId = await createOrgApi(server, userId, 'Initech')
    await go(owner, `${server.url}/orgs/${orgId}/settings/domains`)
    await owner.getByRole('textbox', { name: 'Domain' }).fill('Initech.test')
    await owner.getByRole('button', { name: 'Add domain' }).click()
    const card = owner.getByLabel('Domain initech.test', { exact: true })
    await card.getByText('Pending').waitFor()
    await card.getByText('_orgkit-challenge.initech.test').waitFor()
    await card.getByRole('button', { name: 'Copy value' }).waitFor()
    const [claim] = (await fetchAs(owner, 'GET', `/v1/orgs/${orgId}/domains`)).body.items
    await card.getByText(claim.txtRecord.value).waitFor()

    // Verify before the record exists: what DNS said, in place; then with it: verified.
    await card.getByRole('button', { name: 'Verify' }).click()
    await card.getByText(/No TXT record there yet/).waitFor()
    await shot(owner, '05-domain-not-verified-yet')
    dns.setTxt('_orgkit-challenge.initech.test', [claim.txtRecord.value])
    await card.getByRole('button', { name: 'Verify' }).click()
    await card.getByText('Verified').waitFor()
    await pick(owner, 'Who joins through this domain', /^Suggest/)
    await owner.getByText('Saved').first().waitFor()
    await shot(owner, '06-domain-verified-suggest')
    expect((await fetchAs(owner, 'GET', `/v1/orgs/${orgId}/domains`)).body.items[0].joinMode).toBe('suggest')

    // A person whose verified email is at initech.test is offered Initech, and joins with a click.
    const { page: pat } = await tabAs('Pat Initech', 'pat@initech.test')
    await go(pat, server.url)
    await pat.waitForURL(/\/orgs\//)
    await pat.getByText('An organization for your domain').waitFor()
    await shot(pat, '07-suggested-org')
    await pat.getByRole('button', { name: 'Join Initech' }).click()
    await pat.waitForURL(new RegExp(`/orgs/${orgId}/settings`))
    const members = (await server.platform.get(`/v1/orgs/${orgId}/members`)).body.items
    expect(members.map((m: { email: string }) => m.email)).toContain('pat@initech.test')
    expect(await pat.getByText('An organization for your domain').count()).toBe(0)
  }, 240_000)

  it('makes a directory token once, lists it, shows the directory’s groups, and revokes it (issue 21.3)', async () => {
    const { page: owner, userId } = await tabAs('Sid Scim', 'sid@example.com')
    const orgId = await createOrgApi(server, userId, 'Hooli')
    await go(owner, `${server.url}/orgs/${orgId}/settings/directory`)
    await owner.getByRole('textbox', { name: 'New directory token' }).fill('Okta')
    await owner.getByRole('button', { name: 'Create token' }).click()
    const token = (await owner.getByLabel('Directory token', { exact: true }).textContent())!
    expect(token).toMatch(/^okd_/)
    expect(await owner.getByLabel('SCIM base URL', { exact: true }).textContent()).toBe(
      `${server.url}/scim/v2/orgs/${orgId}`,
    )
    const tokens = owner.getByRole('table', { name: 'Directory tokens' })
    await tokens.getByText(`${token.slice(0, 12)}…`).waitFor()
    await shot(owner, '08-directory-token-shown-once')

    // The directory pushes a person and a group with the token: the tab shows the group it maps to.
    const scim = (path: string, body: unknown) =>
      fetch(`${server.url}/scim/v2/orgs/${orgId}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' },
        body: JSON.stringify(body),
      })
    const gavin = await (await scim('/Users', { userName: 'gavin@hooli.test', active: true })).json()
    expect((await scim('/Groups', { displayName: 'Hooli XYZ', members: [{ value: gavin.id }] })).status).toBe(
      201,
    )
    await owner.reload()
    await owner.getByRole('table', { name: 'Directory groups' }).getByText('Hooli XYZ').waitFor()
    expect(await owner.content()).not.toContain(token) // shown once: gone after a reload
    await shot(owner, '09-directory-mapping')

    await tokens.getByRole('button', { name: 'Revoke' }).click()
    await owner.getByRole('dialog').getByRole('button', { name: 'Revoke' }).click()
    await owner.getByText('Directory token revoked').waitFor()
    await tokens.getByText('revoked').waitFor()
    expect((await scim('/Users', { userName: 'erlich@hooli.test' })).status).toBe(401)
  }, 240_000)
})
