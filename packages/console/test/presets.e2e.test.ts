import { presets } from '@orgkit/core'
import type { Browser, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startTestServer, type TestServer } from '../../server/test/support/harness.ts'
import {
  actAs,
  addMember,
  CONSOLE_DIST,
  createOrg,
  createOrgApi,
  explain,
  fetchAs,
  go,
  launch,
  newPage,
  photograph,
  pick,
  provision,
  release,
  screenshot,
  someone,
} from './e2e-support.ts'

// Seeds 002, 003 and 004 walked through the console, each preset on its own server, in headless Chromium.
// Other members are provisioned through the API (the invitation flow is console.e2e.test.ts's subject);
// every step the seed describes is done and checked on the console's screens.
let browser: Browser
let shot: (page: Page, name: string) => Promise<unknown>
let failed: (page: Page, name: string) => Promise<unknown>
/**
 * The one page each preset's owner uses in turn (actAs hands it on): a new browser context would be a cold
 * renderer compiling the console and axe-core again (~2 s of CPU).
 */
let tab: Page

beforeAll(async () => {
  const launched = await launch('presets')
  browser = launched.browser
  shot = screenshot(launched.artifacts)
  failed = photograph(launched.artifacts)
  tab = await newPage(browser)
}, 180_000)

afterEach(async (context) => {
  if (context.task.result?.state === 'fail') await failed(tab, 'failure').catch(() => {})
})

afterAll(async () => {
  await release(browser)
})

// Issue 19.9: every word on screen comes from the model. Capgo's words, in any case; seed 004's module
// "Enterprise App Store" is that product's own name and is taken out first.
const CAPGO_WORDS = /\b(apps?|channels?|bundles?)\b/i
const OWN_NAMES = /Enterprise App Store/g

/**
 * Clicks the close button of every notification on screen, in the page (one that closes itself meanwhile is
 * not waited for), and waits until none is left.
 */
async function closeNotifications(page: Page) {
  await page.evaluate(() => {
    document.querySelectorAll<HTMLElement>('.mantine-Notification-closeButton').forEach((close) => {
      close.click()
    })
  })
  await expect.poll(() => page.locator('.mantine-Notification-root').count()).toBe(0)
}

/** Opens each of the org's screens and checks its navigation and page: no capgo word, and the preset's own. */
async function wordsFromTheModel(page: Page, url: string, orgId: string, screens: Record<string, RegExp[]>) {
  for (const [path, own] of Object.entries(screens)) {
    await go(page, `${url}/orgs/${orgId}/${path}`)
    for (const word of own) await page.getByText(word).first().waitFor()
    await page.getByRole('navigation').waitFor()
    const text = (await page.locator('body').innerText()).replace(OWN_NAMES, '')
    expect(text.match(CAPGO_WORDS)?.[0], `a capgo word on ${path}`).toBeUndefined()
  }
}

describe('projects preset (seed 002)', () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startTestServer('pglite', {
      model: presets.projects!,
      localOutbox: true,
      consoleDir: CONSOLE_DIST,
    })
  }, 60_000)
  afterAll(() => server?.stop())

  it('creates a project, shows DEFAULT / ADMIN, gives access by group and account, lists externals', async () => {
    const ada = await someone(server, 'Ada Admin', 'ada@example.com')
    const { userId } = ada
    const admin = tab
    await actAs(admin, server, ada)
    const orgId = await createOrgApi(server, userId, 'APImetrics')
    await addMember(server, orgId, 'Ann', 'ann@example.com', ['org_member'])

    // No project yet: the list says so in the seed's words, and the navigation names Projects.
    await go(admin, `${server.url}/orgs/${orgId}/apps`)
    await admin.getByRole('navigation').getByText('Projects', { exact: true }).waitFor()
    await admin.getByText('No projects yet').waitFor()
    await admin.getByText('Create the first with New project.').waitFor()

    // "Organizations have two default roles: DEFAULT and ADMIN": DEFAULT holds every member.
    await go(admin, `${server.url}/orgs/${orgId}/settings/groups`)
    await admin.getByRole('button', { name: 'DEFAULT', exact: true }).waitFor()
    await admin.getByRole('button', { name: 'ADMIN', exact: true }).waitFor()
    await shot(admin, 'projects-01-groups')
    await admin.getByRole('button', { name: 'DEFAULT', exact: true }).click()
    // Seed 002 calls a set of accounts a "Role".
    const inGroup = admin.getByRole('table', { name: 'Role members' })
    await inGroup.getByText('ann@example.com').waitFor()
    await inGroup.getByText('ada@example.com').waitFor()
    await admin.keyboard.press('Escape')
    await admin.getByRole('button', { name: 'ADMIN', exact: true }).click()
    await inGroup.getByText('ada@example.com').waitFor()
    expect(await inGroup.getByText('ann@example.com').count()).toBe(0)
    await admin.keyboard.press('Escape')

    // A project.
    await go(admin, `${server.url}/orgs/${orgId}/apps`)
    await admin.getByRole('button', { name: 'New project' }).click()
    await admin.getByRole('dialog').getByLabel('Name').fill('Checkout API')
    await admin.getByRole('dialog').getByRole('button', { name: 'Create' }).click()
    await admin.waitForURL(/\/apps\/[0-9a-f-]{36}$/)
    const projectUrl = admin.url()
    const projectId = /\/apps\/([0-9a-f-]{36})$/.exec(projectUrl)![1]!

    // Project access: a Role (group) with a level, then an account with a level.
    await go(admin, `${projectUrl}/access`)
    await admin.getByRole('button', { name: 'Add access' }).click()
    await pick(admin, 'Email or role', 'Role: DEFAULT')
    await pick(admin, 'Access level', 'Viewer')
    await admin.getByRole('button', { name: 'Assign' }).click()
    const access = admin.getByRole('table', { name: 'Access' })
    await access.getByText('DEFAULT').waitFor()
    await admin.getByRole('button', { name: 'Add access' }).click()
    await pick(admin, 'Email or role', /ann@example\.com/)
    await pick(admin, 'Access level', 'Editor')
    await admin.getByRole('button', { name: 'Assign' }).click()
    await access.getByText('ann@example.com').waitFor()
    await shot(admin, 'projects-02-access')
    let result = await explain(server, admin, orgId, {
      person: /Ann/,
      permission: 'project.write',
      resourceLabel: 'Project',
      resource: /Checkout API/,
    })
    await expect.poll(() => result.getByText('Allowed').count()).toBe(1)

    // An account with access to the project and no membership: listed, marked external.
    const partner = await provision(server, 'Pat Partner', 'pat@partner.example')
    const bound = await server.platform.post(`/v1/orgs/${orgId}/bindings`, {
      principal: { type: 'user', id: partner },
      role: 'project_viewer',
      resourceId: projectId,
    })
    expect(bound.status).toBe(201)
    await go(admin, `${server.url}/orgs/${orgId}/settings/members`)
    const row = admin.locator('tr[data-email="pat@partner.example"]')
    await row.getByText('external', { exact: true }).waitFor()
    expect(await row.getByRole('button', { name: /Edit role/ }).count()).toBe(0)
    await shot(admin, 'projects-03-members-external')
    result = await explain(server, admin, orgId, {
      person: /Pat Partner/,
      permission: 'project.read',
      resourceLabel: 'Project',
      resource: /Checkout API/,
    })
    await expect.poll(() => result.getByText('Allowed').count()).toBe(1)

    // Issue 19.9: no screen says App, Channel or Bundle; each says the seed's Projects, Accounts, Roles.
    await wordsFromTheModel(admin, server.url, orgId, {
      apps: [/^Projects$/, /Checkout API/],
      [`apps/${projectId}/access`]: [/^Access level$/, /ann@example\.com/],
      'settings/members': [/^Accounts$/, /^Account$/, /pat@partner\.example/],
      'settings/groups': [/^Roles$/, /^DEFAULT$/],
      'settings/roles': [/^Access levels$/, /No custom access levels yet/, /^Viewer$/],
      'settings/general': [/^General$/],
      'settings/security': [/^Accounts and the policy$/],
      'settings/audit-logs': [/^Audit Logs$/],
      'settings/webhooks': [/No webhook endpoints yet/],
      explain: [/Why can this person do this\?/],
    })
    await shot(admin, 'projects-04-words')
  }, 240_000)
})

describe('teams preset (seed 003)', () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startTestServer('pglite', {
      model: presets.teams!,
      localOutbox: true,
      consoleDir: CONSOLE_DIST,
    })
  }, 60_000)
  afterAll(() => server?.stop())

  it('walks the single-role-teams example: Write / Read → on, team Admin → off, Write / Read again', async () => {
    const olivia = await someone(server, 'Olivia Owner', 'olivia@example.com')
    const { userId } = olivia
    const owner = tab
    await actAs(owner, server, olivia)
    const orgId = await createOrgApi(server, userId, 'Copia')
    const people = {
      'User One': await addMember(server, orgId, 'User One', 'user1@example.com', ['member']),
      'User Two': await addMember(server, orgId, 'User Two', 'user2@example.com', ['member']),
    }
    let repositoryId = ''
    // The explain view's own call (POST /v1/explain) over the API: the decisions between the steps are the
    // engine's; the view itself is walked once, at teams-04.
    const level = async (person: RegExp, permission: string) => {
      const [, id] = Object.entries(people).find(([name]) => person.test(name))!
      const reply = await fetchAs(owner, 'POST', '/v1/explain', {
        subject: { type: 'user', id },
        permission,
        resource: { type: 'repository', id: repositoryId },
      })
      expect(reply.status, JSON.stringify(reply.body)).toBe(200)
      return reply.body.allowed as boolean
    }

    // Mantine's switch input is visually hidden: click it as the label would.
    const toggle = (name: string) => owner.getByRole('switch', { name }).dispatchEvent('click')

    // A repository; before it, the empty list says so.
    await go(owner, `${server.url}/orgs/${orgId}/apps`)
    await owner.getByRole('navigation').getByText('Repositories', { exact: true }).waitFor()
    await owner.getByText('No repositories yet').waitFor()
    await owner.getByRole('button', { name: 'New repository' }).click()
    await owner.getByRole('dialog').getByLabel('Name').fill('firmware')
    await owner.getByRole('dialog').getByRole('button', { name: 'Create' }).click()
    await owner.waitForURL(/\/apps\/[0-9a-f-]{36}$/)
    repositoryId = /\/apps\/([0-9a-f-]{36})$/.exec(owner.url())![1]!

    // 1. "Owner creates Team A, with User 1 set to Write, and User 2 set to Read"
    const settings = (tab: string) => go(owner, `${server.url}/orgs/${orgId}/settings/${tab}`)
    await settings('groups')
    await owner.getByRole('button', { name: 'Add' }).click()
    await owner.getByRole('dialog').getByLabel('Name').fill('Team A')
    await pick(owner, 'Team level', 'Read')
    await owner.getByRole('dialog').getByRole('button', { name: 'Create' }).click()
    await owner.getByRole('button', { name: 'Team A', exact: true }).click()
    await owner.getByRole('dialog').getByRole('button', { name: 'Add' }).click()
    await owner.getByRole('checkbox', { name: /user1@example\.com/ }).check()
    await owner.getByRole('checkbox', { name: /user2@example\.com/ }).check()
    await owner.getByRole('button', { name: 'Add members' }).click()
    await owner.getByRole('table', { name: 'Team members' }).getByText('user2@example.com').waitFor()
    await pick(owner, 'Level of user1@example.com', 'Write')
    await owner.getByText('Level saved').first().waitFor()
    await pick(owner, 'Level of user2@example.com', 'Read')
    await shot(owner, 'teams-01-team-members')
    // The two "Level saved" sit over the drawer's tabs until they close themselves (4 s): closed by hand.
    await closeNotifications(owner)
    await owner.getByRole('tab', { name: 'Access Control' }).click()
    await owner.getByText('This team gives no access yet').waitFor()
    await pick(owner, 'Repository', 'firmware')
    await pick(owner, 'Role', "Team's level (per member)")
    await owner.getByRole('button', { name: 'Assign' }).click()
    await owner.getByRole('table', { name: 'Team access' }).getByText("Team's level (per member)").waitFor()
    await shot(owner, 'teams-02-team-access')
    expect(await level(/User One/, 'repository.write')).toBe(true)
    expect(await level(/User Two/, 'repository.write')).toBe(false)
    expect(await level(/User Two/, 'repository.read')).toBe(true)

    // 2. "Owner enables single-role teams" (first time: every team to Read); "Team A is set to Admin".
    // The drawer is closed first, so go moves in place (a dialog left open makes it load the console afresh).
    await owner.keyboard.press('Escape')
    await settings('general')
    await toggle('Single-role teams')
    await owner.getByText('Settings saved').first().waitFor()
    await expect.poll(() => owner.getByRole('switch', { name: 'Single-role teams' }).isChecked()).toBe(true)
    await owner.getByRole('switch', { name: 'Permissions' }).waitFor()
    await shot(owner, 'teams-03-general')
    await settings('groups')
    const teamRow = owner.locator('tr', { hasText: 'Team A' })
    await expect.poll(() => teamRow.getByText('Read', { exact: true }).count()).toBe(1)
    expect(await level(/User One/, 'repository.write')).toBe(false)
    await settings('groups')
    await owner.getByRole('button', { name: 'Team A', exact: true }).click()
    await pick(owner, 'Team level', 'Admin')
    await owner.getByText('Team level saved').first().waitFor()
    expect(await level(/User One/, 'repository.admin')).toBe(true)
    expect(await level(/User Two/, 'repository.admin')).toBe(true)

    // 3. "Owner disables single-role teams": User 1 back to Write, User 2 back to Read.
    await owner.keyboard.press('Escape')
    await settings('general')
    await toggle('Single-role teams')
    await expect.poll(() => owner.getByRole('switch', { name: 'Single-role teams' }).isChecked()).toBe(false)
    expect(await level(/User One/, 'repository.write')).toBe(true)
    expect(await level(/User One/, 'repository.admin')).toBe(false)
    expect(await level(/User Two/, 'repository.write')).toBe(false)
    expect(await level(/User Two/, 'repository.read')).toBe(true)
    // The same answer on the explain view.
    const shown = await explain(server, owner, orgId, {
      person: /User One/,
      permission: 'repository.write',
      resourceLabel: 'Repository',
      resource: /firmware/,
    })
    await shown.getByText('Allowed', { exact: true }).waitFor()
    await shot(owner, 'teams-04-explain')

    // The Permissions setting (resourceAdminsGrantTeamAccess).
    await settings('general')
    await toggle('Permissions')
    await expect.poll(() => owner.getByRole('switch', { name: 'Permissions' }).isChecked()).toBe(true)
    // A team given the whole organization: every repository, at the team's level.
    await settings('groups')
    await owner.getByRole('button', { name: 'Add' }).click()
    await owner.getByRole('dialog').getByLabel('Name').fill('Readers')
    await pick(owner, 'Team level', 'Read')
    await owner.getByRole('dialog').getByRole('button', { name: 'Create' }).click()
    await owner.getByRole('button', { name: 'Readers', exact: true }).click()
    await owner.getByRole('tab', { name: 'Access Control' }).click()
    await pick(owner, 'Repository', 'Every repository (the organization)')
    await pick(owner, 'Role', "Team's level (per member)")
    await owner.getByRole('button', { name: 'Assign' }).click()
    await owner.getByRole('table', { name: 'Team access' }).getByText('Organization').waitFor()
    await shot(owner, 'teams-05-all-repositories')
    const org = await server.platform.get(`/v1/orgs/${orgId}`)
    expect(org.body).toMatchObject({ singleRoleTeams: false, resourceAdminsGrantTeamAccess: true })

    // Issue 19.9: repositories and teams everywhere, never capgo's words.
    await wordsFromTheModel(owner, server.url, orgId, {
      apps: [/^Repositories$/, /firmware/],
      'settings/members': [/^Members$/, /user1@example\.com/],
      'settings/groups': [/^Teams$/, /^Owners$/, /^Team A$/],
      'settings/roles': [/^Roles$/, /Read \(all repositories\)/],
      'settings/general': [/Single-role teams/],
      explain: [/Why can this person do this\?/],
    })
    await shot(owner, 'teams-06-words')
  }, 300_000)
})

describe('modules preset (seed 004)', () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startTestServer('pglite', {
      model: presets.modules!,
      localOutbox: true,
      consoleDir: CONSOLE_DIST,
    })
  }, 60_000)
  afterAll(() => server?.stop())

  it('gives a personal org at sign-up, inherits into a sub-org, edits module roles, resends and revokes', async () => {
    const owner = tab
    await actAs(owner, server, await someone(server, 'Olivia Owner', 'olivia@example.com'))
    await go(owner, server.url)
    await owner.waitForURL(/\/orgs\//)
    // Sign-up made a personal organization, owned.
    const personal = /\/orgs\/([0-9a-f-]{36})\//.exec(owner.url())?.[1]
    expect(personal).toBeTruthy()
    await go(owner, `${server.url}/orgs/${personal}/settings/members`)
    await owner.locator('tr[data-email="olivia@example.com"]').getByText('Owner', { exact: true }).waitFor()
    await shot(owner, 'modules-01-personal-org')

    // No resource types in seed 004: no list of them in the navigation, and its address opens Members.
    expect(
      await owner
        .getByRole('navigation')
        .getByRole('link', { name: /^Apps$/ })
        .count(),
    ).toBe(0)
    await owner.goto(`${server.url}/orgs/${personal}/apps`)
    await owner.waitForURL(/\/settings\/members$/)
    await go(owner, `${server.url}/orgs/${personal}/settings/groups`)
    await owner.getByText('No groups yet').waitFor()

    // A root org with a member holding module roles, several at once, edited in the role modal.
    const root = await createOrg(server, owner, 'Root')
    await addMember(server, root, 'Dev', 'dev@example.com', ['member'])
    await go(owner, owner.url())
    const dev = owner.locator('tr[data-email="dev@example.com"]')
    await dev.getByRole('button', { name: 'Edit role of dev@example.com' }).click()
    await owner.getByRole('checkbox', { name: 'Build: write' }).check()
    await owner.getByRole('checkbox', { name: 'Testing Distribution: write' }).check()
    await shot(owner, 'modules-02-module-roles')
    await owner.getByRole('button', { name: 'Confirm' }).click()
    await dev.getByText(/Build: write/).waitFor()
    await dev.getByText(/Testing Distribution: write/).waitFor()

    // A sub-organization: the parent's member is listed there as inherited, with the parent's roles.
    const sub = await createOrg(server, owner, 'Sub', /^Root$/)
    await go(owner, `${server.url}/orgs/${sub}/settings/members`)
    const inherited = owner.locator('tr[data-email="dev@example.com"]')
    await inherited.getByText('inherited', { exact: true }).waitFor()
    await inherited.getByText(/Build: write/).waitFor()
    expect(await inherited.getByRole('button', { name: /Edit role/ }).count()).toBe(0)
    await shot(owner, 'modules-03-sub-org-inherited')

    // A pending invitation, resent and revoked.
    await go(owner, `${server.url}/orgs/${root}/settings/members`)
    await owner.getByRole('button', { name: 'Add' }).click()
    await owner.getByRole('checkbox', { name: 'Member', exact: true }).check() // module roles: checkboxes
    await owner.getByRole('button', { name: 'Confirm' }).click()
    await owner.getByRole('dialog').getByLabel('Email').fill('new@example.com')
    await owner.getByLabel("I'm not a robot").click()
    await owner.getByText('Verified').waitFor()
    await owner.getByRole('button', { name: 'Send invitation' }).click()
    const pending = owner.locator('tr[data-email="new@example.com"]')
    await pending.getByText('Pending').waitFor()
    await pending.getByRole('button', { name: 'Resend invitation to new@example.com' }).click()
    await owner.getByText('Invitation sent again').first().waitFor()
    await shot(owner, 'modules-04-pending')
    await pending.getByRole('button', { name: 'Revoke invitation to new@example.com' }).click()
    await owner.getByRole('button', { name: 'Revoke', exact: true }).click()
    await expect.poll(() => pending.count()).toBe(0)

    // Issue 19.9: the module names of seed 004, never capgo's words (its "Enterprise App Store" is its own).
    await wordsFromTheModel(owner, server.url, root, {
      'settings/members': [/^Members$/, /Build: write/],
      'settings/groups': [/No groups yet/],
      'settings/roles': [
        /No custom roles yet/,
        /^Signing Identities: read$/,
        /^Enterprise App Store: write$/,
      ],
      'settings/security': [/^Members and the policy$/],
      explain: [/Why can this person do this\?/],
    })
    await shot(owner, 'modules-05-words')
  }, 240_000)
})
