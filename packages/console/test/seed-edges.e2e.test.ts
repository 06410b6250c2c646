import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestServer, type TestServer } from '../../server/test/support/harness.ts'
import {
  actAs,
  CONSOLE_DIST,
  consoleSession,
  go,
  linkFromOutboxApi,
  newPage,
  pick,
  type Someone,
  someone,
} from './e2e-support.ts'

// Issue 19.8 in the console (capgo preset, headless Chromium): every account has an organization from
// sign-up, and the "Select a role" picker offers only the roles the signed-in person may give.
const session = consoleSession('seed-edges')
const { pages, shot } = session
let server: TestServer
/**
 * The one page everyone here uses, handed from person to person (actAs): they act one after another, never
 * two sessions at once, and its warm renderer spares each a new browser context's cold start (~2 s of CPU).
 */
let tab: Page
beforeAll(async () => {
  server = session.server
  tab = await newPage(session.browser)
  pages.push(tab)
})

/** The tab, signed in as `who` on `at`: the next `go` loads the console afresh as them. */
const as = async (at: TestServer, who: Someone) => {
  await actAs(tab, at, who)
  return tab
}

const roleOptions = async (page: Page) => {
  const dialog = page.getByRole('dialog', { name: 'Select a role' })
  await dialog.waitFor()
  return dialog
    .getByRole('radio')
    .evaluateAll((radios) =>
      radios.map((r) => r.closest('.mantine-Radio-root')?.querySelector('label')?.textContent ?? ''),
    )
}

/**
 * The invitee opens the mail's link signed out (the tab with no one's cookies or stored state, as a fresh
 * browser has), creates an account from it and joins.
 */
const acceptBySignUp = async (server: TestServer, email: string, name: string) => {
  const page = tab
  await actAs(page, server, null)
  await page.goto(await linkFromOutboxApi(server, email, '/invitations/'))
  await page.getByLabel('Name').fill(name)
  await page.getByRole('textbox', { name: 'Password' }).fill('another long passphrase')
  await page.getByRole('button', { name: 'Create account and join' }).click()
  // Told what happened (issue 26.5), then on into the org.
  await page.getByRole('button', { name: /^Open / }).click()
  await page.waitForURL(/\/orgs\//)
  return page
}

/** Solves the invitation form's captcha. */
const solveCaptcha = async (page: Page) => {
  await page.getByLabel("I'm not a robot").click()
  await page.getByText('Verified').waitFor()
}

describe('seed 001 edges (Chromium, capgo preset)', () => {
  it('a new account lands in its own organization; an Admin is offered Admin and Member only', async () => {
    const alice = await as(server, await someone(server, 'Alice', 'alice@example.com'))
    await go(alice, server.url)
    await alice.waitForURL(/\/orgs\//)
    const org = /\/orgs\/([0-9a-f-]{36})/.exec(alice.url())![1]!
    const adamAccount = await someone(server, 'Adam', 'adam@example.com')
    expect(
      (
        await server.platform.post(`/v1/orgs/${org}/members`, {
          userId: adamAccount.userId,
          roles: ['org_admin'],
        })
      ).status,
    ).toBe(201)

    await go(alice, `${server.url}/orgs/${org}/settings/members`)
    await alice.getByRole('button', { name: 'Add' }).click()
    const offeredToAlice = await roleOptions(alice)
    expect(offeredToAlice).toEqual(
      expect.arrayContaining(['Super Admin', 'Admin', 'Billing Manager', 'Member']),
    )
    await shot(alice, '01-super-admin-picker')

    const adam = await as(server, adamAccount)
    await go(adam, `${server.url}/orgs/${org}/settings/members`)
    await adam.getByRole('button', { name: 'Add' }).click()
    const offered = await roleOptions(adam)
    await shot(adam, '02-admin-picker')
    expect(offered.sort()).toEqual(['Admin', 'Member'])
  }, 120_000)
  // Issue 19.8: the app-access role picker (Add access, the wrench) offers only roles grantable at that app.
  it("an App Admin's app-role picker offers only the roles grantable at that app", async () => {
    const cleo = await someone(server, 'Cleo', 'cleo@example.com')
    const org = cleo.orgId
    const app = (await server.platform.post(`/v1/orgs/${org}/resources`, { type: 'app', name: 'Mobile' }))
      .body.id as string
    const all = (await server.platform.get(`/v1/orgs/${org}/roles`)).body.items as {
      key: string
      permissions: string[]
    }[]
    const appAdmin = all.find((r) => r.key === 'app_admin')!
    // A custom app role ranking above App Admin: an App Admin may not give it.
    expect(
      (
        await server.platform.post(`/v1/orgs/${org}/roles`, {
          key: 'release_captain',
          scope: 'app',
          slot: 'app',
          label: 'Release Captain',
          permissions: appAdmin.permissions,
          priority: 90,
        })
      ).status,
    ).toBe(201)
    const carl = await someone(server, 'Carl', 'carl@example.com')
    const carlId = carl.userId
    await server.platform.post(`/v1/orgs/${org}/members`, { userId: carlId, roles: ['org_member'] })
    expect(
      (
        await server.platform.post(`/v1/orgs/${org}/bindings`, {
          principal: { type: 'user', id: carlId },
          role: 'app_admin',
          resourceId: app,
        })
      ).status,
    ).toBe(201)

    const offered = async (who: Someone) => {
      const page = await as(server, who)
      await go(page, `${server.url}/orgs/${org}/apps/${app}/access`)
      await page.getByRole('button', { name: 'Add access' }).click()
      await page.getByRole('dialog', { name: 'Add access' }).getByRole('combobox', { name: 'Role' }).click()
      await page.getByRole('option').first().waitFor()
      const names = await page.getByRole('option').allTextContents()
      await page.keyboard.press('Escape')
      return names
    }
    const toCleo = await offered(cleo)
    expect(toCleo).toEqual(expect.arrayContaining(['Release Captain', 'App Admin', 'App Reader']))
    const toCarl = await offered(carl)
    await shot(tab, '09-app-admin-app-role-picker')
    expect(toCarl.sort()).toEqual(['App Admin', 'App Developer', 'App Reader', 'App Uploader'])
    const grantable = (
      await server.as(carlId).get(`/v1/orgs/${org}/roles?grantable=true&resourceId=${app}`)
    ).body.items.filter((r: { scope: string; grantable: boolean }) => r.scope === 'app' && r.grantable)
    expect(grantable.map((r: { label: string }) => r.label).sort()).toEqual(toCarl)
    // Carl reaches that tab from the Apps list too: its Access link is for who may manage the app's access,
    // not only for who may read the organization's.
    await go(tab, `${server.url}/orgs/${org}/apps`)
    await tab.getByRole('table', { name: 'Apps' }).getByRole('link', { name: 'Access' }).first().click()
    await tab.waitForURL(/\/access$/)
    await tab.getByRole('button', { name: 'Add access' }).waitFor()
  }, 150_000)

  // Issue 19.2 / 19.8: a group's organization role is changed in place from its drawer (one PATCH of its
  // binding), the picker offering only what the signed-in person may give.
  it("changes a group's organization role in place; an Admin is not offered Super Admin for it", async () => {
    const gusAccount = await someone(server, 'Gus', 'gus@example.com')
    const org = gusAccount.orgId
    const gus = await as(server, gusAccount)
    await go(gus, `${server.url}/orgs/${org}/settings/groups`)
    await gus.getByRole('button', { name: 'Add' }).click()
    await gus.getByRole('dialog').getByLabel('Name').fill('QA Team')
    await pick(gus, 'Organization role', /^Member$/)
    await gus.getByRole('dialog').getByRole('button', { name: 'Create' }).click()
    await gus.getByRole('button', { name: 'QA Team', exact: true }).click()
    const groupId = (await server.platform.get(`/v1/orgs/${org}/groups`)).body.items.find(
      (g: { name: string }) => g.name === 'QA Team',
    ).id as string
    const orgBindings = async () =>
      (await server.platform.get(`/v1/orgs/${org}/bindings?groupId=${groupId}`)).body.items as {
        id: string
        role: string
      }[]
    const [before] = await orgBindings()
    expect(before).toMatchObject({ role: 'org_member' })
    await pick(gus, 'Organization role', /^Admin$/)
    await expect
      .poll(async () => (await orgBindings()).map((b) => [b.id, b.role]))
      .toEqual([[before!.id, 'org_admin']])
    await shot(gus, '10-group-org-role-in-place')
    // An Admin of the org: Admin, Billing Manager? No — what the server says they may give, no Super Admin.
    const idaAccount = await someone(server, 'Ida', 'ida@example.com')
    const idaId = idaAccount.userId
    await server.platform.post(`/v1/orgs/${org}/members`, { userId: idaId, roles: ['org_admin'] })
    const ida = await as(server, idaAccount)
    await go(ida, `${server.url}/orgs/${org}/settings/groups`)
    await ida.getByRole('button', { name: 'QA Team', exact: true }).click()
    await ida.getByRole('combobox', { name: 'Organization role' }).click()
    await ida.getByRole('option').first().waitFor()
    const offered = await ida.getByRole('option').allTextContents()
    await ida.keyboard.press('Escape')
    const grantable = (await server.as(idaId).get(`/v1/orgs/${org}/roles?grantable=true`)).body.items
      .filter((r: { scope: string; grantable: boolean }) => r.scope === 'org' && r.grantable)
      .map((r: { label: string }) => r.label)
    expect(offered.sort()).toEqual(grantable.sort())
    expect(offered).not.toContain('Super Admin')
  }, 150_000)
})

// Issue 19.6 in the console (teams preset): the org profile in General, a team admin setting a member's
// level in their own team, and levels shown as suspended while single-role teams are on.
describe('seed 003 edges (Chromium, teams preset)', () => {
  let teams: TestServer
  beforeAll(async () => {
    const { presets } = await import('@orgkit/core')
    teams = await startTestServer('pglite', {
      localOutbox: true,
      consoleDir: CONSOLE_DIST,
      model: presets.teams!,
    })
  }, 60_000)
  afterAll(() => teams?.stop())

  it('saves the profile; a team admin sets levels in their team; suspended under single-role teams', async () => {
    const olgaAccount = await someone(teams, 'Olga', 'olga@example.com')
    const owner = teams.as(olgaAccount.userId)
    const org = (await owner.post('/v1/orgs', { name: 'copia' })).body.id as string
    const umaAccount = await someone(teams, 'Uma', 'uma@example.com')
    const { userId: umaId } = umaAccount
    const { userId: vicId } = await someone(teams, 'Vic', 'vic@example.com')
    for (const id of [umaId, vicId])
      expect(
        (await teams.platform.post(`/v1/orgs/${org}/members`, { userId: id, roles: ['member'] })).status,
      ).toBe(201)
    const team = (await owner.post(`/v1/orgs/${org}/groups`, { name: 'Team A', role: 'read' })).body.id
    await owner.post(`/v1/orgs/${org}/bindings`, { principal: { type: 'group', id: team }, role: 'team' })
    await owner.put(`/v1/orgs/${org}/groups/${team}/members/${umaId}`, { memberRole: 'admin' })
    await owner.put(`/v1/orgs/${org}/groups/${team}/members/${vicId}`, { memberRole: 'read' })

    // "You can add or modify the organization name, full name and description … website or location"
    const olga = await as(teams, olgaAccount)
    await go(olga, `${teams.url}/orgs/${org}/settings/general`)
    await olga.getByLabel('Full name').fill('Copia Automation')
    await olga.getByLabel('Website').fill('https://copia.example')
    await olga.getByLabel('Location').fill('Boston')
    await olga.getByRole('button', { name: 'Save' }).click()
    await olga.getByText('Settings saved').first().waitFor()
    await olga.reload()
    await expect.poll(() => olga.getByLabel('Location').inputValue()).toBe('Boston')
    expect((await owner.get(`/v1/orgs/${org}`)).body).toMatchObject({
      fullName: 'Copia Automation',
      website: 'https://copia.example',
    })
    await shot(olga, '03-teams-general')

    // Uma administers Team A: she sets Vic's level there.
    const uma = await as(teams, umaAccount)
    await go(uma, `${teams.url}/orgs/${org}/settings/groups`)
    await uma.getByRole('button', { name: 'Team A', exact: true }).click()
    await pick(uma, 'Level of vic@example.com', 'Write')
    await uma.getByText('Level saved').first().waitFor()
    await shot(uma, '04-team-admin-levels')
    const members = (await owner.get(`/v1/orgs/${org}/groups/${team}`)).body.members
    expect(members.find((m: { userId: string }) => m.userId === vicId).memberRole).toBe('write')

    // Single-role teams on: the levels are suspended, shown, and not editable.
    expect((await owner.patch(`/v1/orgs/${org}`, { singleRoleTeams: true })).status).toBe(200)
    await as(teams, olgaAccount)
    await go(olga, `${teams.url}/orgs/${org}/settings/groups`)
    await olga.getByRole('button', { name: 'Team A', exact: true }).click()
    const table = olga.getByRole('table', { name: 'Team members' })
    await table.getByText('Suspended').first().waitFor()
    expect(await olga.getByRole('combobox', { name: 'Level of vic@example.com' }).isDisabled()).toBe(true)
    await shot(olga, '05-levels-suspended')
  }, 150_000)
})

// Issue 19.7 in the console (projects preset): the Projects list says who has access at what level, external
// accounts marked; an empty project is deleted from it; the Accounts list shows every Role of an account.
describe('seed 002 edges (Chromium, projects preset)', () => {
  let projects: TestServer
  beforeAll(async () => {
    const { presets } = await import('@orgkit/core')
    projects = await startTestServer('pglite', {
      localOutbox: true,
      consoleDir: CONSOLE_DIST,
      model: presets.projects!,
    })
  }, 60_000)
  afterAll(() => projects?.stop())

  it('lists access per project with externals marked, deletes an empty project, shows several Roles', async () => {
    const adaAccount = await someone(projects, 'Ada', 'ada@example.com')
    const ada = await as(projects, adaAccount)
    const admin = projects.as(adaAccount.userId)
    const org = (await admin.post('/v1/orgs', { name: 'Acme' })).body.id as string
    const project = async (name: string) =>
      (await admin.post(`/v1/orgs/${org}/resources`, { type: 'project', name })).body.id as string
    const checkout = await project('Checkout API')
    await project('Old')
    const outsider = (
      await projects.platform.post('/v1/users', { email: 'out@partner.example', name: 'Olu' })
    ).body.id
    const ben = (await projects.platform.post('/v1/users', { email: 'ben@example.com', name: 'Ben' })).body.id
    await projects.platform.post(`/v1/orgs/${org}/members`, { userId: ben, roles: ['org_member'] })
    for (const [userId, role] of [
      [outsider, 'project_editor'],
      [ben, 'project_viewer'],
    ])
      expect(
        (
          await admin.post(`/v1/orgs/${org}/bindings`, {
            principal: { type: 'user', id: userId },
            role,
            resourceId: checkout,
          })
        ).status,
      ).toBe(201)
    const qa = (await admin.post(`/v1/orgs/${org}/groups`, { name: 'QA' })).body.id
    await admin.put(`/v1/orgs/${org}/groups/${qa}/members/${ben}`, {})

    await go(ada, `${projects.url}/orgs/${org}/apps`)
    const row = ada.getByLabel('Access to Checkout API')
    await row.getByText('out@partner.example: Editor (external)').waitFor()
    await row.getByText('ben@example.com: Viewer').waitFor()
    expect(await ada.getByRole('button', { name: 'Delete Checkout API' }).count()).toBe(0)
    await shot(ada, '06-projects-access')
    await ada.getByRole('button', { name: 'Delete Old' }).click()
    await ada.getByText('Old deleted').first().waitFor()
    await expect.poll(() => ada.getByRole('link', { name: 'Old', exact: true }).count()).toBe(0)

    await go(ada, `${projects.url}/orgs/${org}/settings/members`)
    const benRow = ada.locator('tr', { hasText: 'ben@example.com' })
    await benRow.getByText('QA', { exact: true }).waitFor()
    expect(await benRow.getByText('DEFAULT', { exact: true }).count()).toBe(2) // the role and the Role (group)
    await shot(ada, '07-accounts-roles')
    // Both organization access levels are DEFAULT's and ADMIN's (the server gives them to no other Role):
    // neither the new Role's form nor a custom Role's drawer offers them.
    await go(ada, `${projects.url}/orgs/${org}/settings/groups`)
    await ada.getByRole('button', { name: 'Add' }).click()
    await ada.getByRole('dialog').getByLabel('Name').waitFor()
    expect(await ada.getByRole('combobox', { name: 'Organization access level' }).count()).toBe(0)
    await ada.keyboard.press('Escape')
    await ada.getByRole('button', { name: 'QA', exact: true }).click()
    await ada.getByText('Organization access level: None').waitFor()
    expect(await ada.getByRole('combobox', { name: 'Organization access level' }).count()).toBe(0)
  }, 150_000)
  // Issue 19.7: an ADMIN gives one project to an outside person by email from the project's access screen.
  it('invites an outside person to one project: pending on its access list, then external with it only', async () => {
    const idaAccount = await someone(projects, 'Ida', 'ida@example.com')
    const ida = await as(projects, idaAccount)
    const admin = projects.as(idaAccount.userId)
    const org = (await admin.post('/v1/orgs', { name: 'Globex' })).body.id as string
    const project = async (name: string) =>
      (await admin.post(`/v1/orgs/${org}/resources`, { type: 'project', name })).body.id as string
    const billing = await project('Billing UI')
    await project('Internal Tools')

    await go(ida, `${projects.url}/orgs/${org}/apps/${billing}/access`)
    await ida.getByRole('button', { name: 'Invite by email' }).click()
    const dialog = ida.getByRole('dialog', { name: /Invite to project Billing UI/i })
    await dialog.getByLabel('Email').fill('sam@contractor.example')
    await solveCaptcha(ida)
    await dialog.getByRole('combobox').click()
    await ida.getByRole('option', { name: 'Editor', exact: true }).click()
    await shot(ida, '10-invite-to-project')
    await dialog.getByRole('button', { name: 'Send invitation' }).click()
    const pendingRow = ida
      .getByRole('table', { name: 'Pending invitations' })
      .locator('tr[data-email="sam@contractor.example"]')
    await pendingRow.getByText('Pending').waitFor()
    await pendingRow.getByText('Editor').waitFor()
    await shot(ida, '11-project-pending-invitation')
    const [invitation] = (await admin.get(`/v1/orgs/${org}/invitations`)).body.items
    expect(invitation).toMatchObject({ resourceId: billing, role: 'project_editor' })

    const sam = await acceptBySignUp(projects, 'sam@contractor.example', 'Sam')
    const samId = (await sam.evaluate(async () => (await (await fetch('/v1/me')).json()) as { id: string }))
      .id
    // They see that project only.
    await go(sam, `${projects.url}/orgs/${org}/apps`)
    await sam.getByRole('link', { name: 'Billing UI', exact: true }).waitFor()
    expect(await sam.getByRole('link', { name: 'Internal Tools', exact: true }).count()).toBe(0)
    await shot(sam, '12-external-sees-one-project')

    // On the project's access list: no longer pending, listed as external (blue).
    await as(projects, idaAccount)
    await go(ida, `${projects.url}/orgs/${org}/apps/${billing}/access`)
    const row = ida
      .getByRole('table', { name: 'Access' })
      .getByRole('row', { name: /sam@contractor\.example/ })
    await row.getByText('external', { exact: true }).waitFor()
    expect(await ida.getByRole('table', { name: 'Pending invitations' }).count()).toBe(0)
    await shot(ida, '13-project-access-external')
    const members = (await admin.get(`/v1/orgs/${org}/members`)).body.items
    expect(members.find((m: { userId: string }) => m.userId === samId)).toMatchObject({ source: 'external' })
  }, 150_000)
})

// Issue 19.5 in the console (modules preset): Manage Roles shows the person's organization and its
// sub-organizations on the left, and gives an inherited member a direct role in a sub-org in one step.
describe('seed 004 edges (Chromium, modules preset)', () => {
  let modules: TestServer
  beforeAll(async () => {
    const { presets } = await import('@orgkit/core')
    modules = await startTestServer('pglite', {
      localOutbox: true,
      consoleDir: CONSOLE_DIST,
      model: presets.modules!,
    })
  }, 60_000)
  afterAll(() => modules?.stop())

  it('Manage Roles: the organization and sub-organizations on the left; a direct role in the sub-org', async () => {
    const olivia = await someone(modules, 'Olivia', 'olivia@example.com')
    const { userId: ownerId, orgId: root } = olivia
    const owner = await as(modules, olivia)
    const sub = (await modules.as(ownerId).post('/v1/orgs', { name: 'QA', parentId: root })).body.id as string
    const dev = (await modules.platform.post('/v1/users', { email: 'dev@example.com', name: 'Dev' })).body.id
    await modules.platform.post(`/v1/orgs/${root}/members`, { userId: dev, roles: ['member', 'build_write'] })

    await go(owner, `${modules.url}/orgs/${root}/settings/members`)
    await owner.getByRole('button', { name: 'Edit role of dev@example.com' }).click()
    const dialog = owner.getByRole('dialog', { name: 'Manage Roles' })
    await dialog.getByText('Sub-organization', { exact: true }).waitFor()
    await dialog.getByText('QA', { exact: true }).click()
    await dialog.getByText('Inherited', { exact: true }).waitFor()
    await dialog.getByRole('checkbox', { name: 'Build: read' }).check()
    await shot(owner, '08-manage-roles-sub-org')
    await dialog.getByRole('button', { name: 'Confirm' }).click()
    await owner.getByText('Roles saved').first().waitFor()
    await dialog.getByText('Member', { exact: true }).first().waitFor()
    const there = (await modules.as(ownerId).get(`/v1/orgs/${sub}/members`)).body.items.find(
      (m: { userId: string }) => m.userId === dev,
    )
    expect(there).toMatchObject({ source: 'direct', roles: ['build_read'] })
  }, 150_000)
  // Issue 19.5: the invitation carries module roles; the invitee joins as Member (read only) plus those.
  it('invites with module roles ticked; the invitee joins as Member plus those roles', async () => {
    const opal = await someone(modules, 'Opal', 'opal@example.com')
    const { userId: ownerId, orgId: root } = opal
    const owner = await as(modules, opal)

    await go(owner, `${modules.url}/orgs/${root}/settings/members`)
    await owner.getByRole('button', { name: 'Add' }).click()
    const choose = owner.getByRole('dialog', { name: 'Select a role' })
    expect(await choose.getByRole('checkbox', { name: 'Member', exact: true }).isChecked()).toBe(true)
    await choose.getByText('joins as a Member with read only access').waitFor()
    await choose.getByRole('checkbox', { name: 'Build: write' }).check()
    await choose.getByRole('checkbox', { name: 'Testing Distribution: read' }).check()
    await shot(owner, '14-invite-module-roles')
    await choose.getByRole('button', { name: 'Confirm' }).click()
    const form = owner.getByRole('dialog', { name: 'Invite a member' })
    const joins = form.getByLabel('Joins as')
    for (const label of ['Member', 'Build: write', 'Testing Distribution: read'])
      await joins.getByText(label, { exact: true }).waitFor()
    await form.getByLabel('Email').fill('tess@example.com')
    await solveCaptcha(owner)
    await form.getByRole('button', { name: 'Send invitation' }).click()
    const row = owner.locator('tr[data-email="tess@example.com"]')
    await row.getByText('Pending').waitFor()
    await shot(owner, '15-invite-module-roles-pending')
    const [invitation] = (await modules.as(ownerId).get(`/v1/orgs/${root}/invitations`)).body.items
    expect([...invitation.roles].sort()).toEqual(['build_write', 'distribution_read', 'member'])

    const tess = await acceptBySignUp(modules, 'tess@example.com', 'Tess')
    const tessId = (await tess.evaluate(async () => (await (await fetch('/v1/me')).json()) as { id: string }))
      .id
    // Never invisible to themselves: the org is theirs to open, as a Member.
    await go(tess, `${modules.url}/orgs/${root}/settings/members`)
    await tess
      .locator('tr[data-email="tess@example.com"]')
      .getByText(/Build: write/)
      .waitFor()

    await as(modules, opal)
    await go(owner, `${modules.url}/orgs/${root}/settings/members`)
    await row.getByText('Active').waitFor()
    await row.getByText(/Member/).waitFor()
    await row.getByText(/Testing Distribution: read/).waitFor()
    await shot(owner, '16-joined-with-module-roles')
    const joined = (await modules.as(ownerId).get(`/v1/orgs/${root}/members`)).body.items.find(
      (m: { userId: string }) => m.userId === tessId,
    )
    expect([...joined.roles].sort()).toEqual(['build_write', 'distribution_read', 'member'])
  }, 150_000)
})
