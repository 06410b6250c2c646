import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runModelTests } from '@orgkit/core'
import { loadModelFile } from '@orgkit/core/files'
import { loadConfig } from '@orgkit/server'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestServer, type TestServer } from '../../server/test/support/harness.ts'
import {
  CONSOLE_DIST,
  createOrgApi,
  expectAccessible,
  go,
  launch,
  person,
  provision,
  release,
  screenshot,
} from './e2e-support.ts'

/**
 * Issue 23's bar: a custom model written only from the docs — docs/models.md's example, a product with
 * projects and environments, taken from the page itself — loads through ORGKIT_MODEL as a file, passes
 * its own tests, answers over the API, and the console reads in its words: no app, channel or bundle.
 */
const DOCS = new URL('../../../docs/models.md', import.meta.url)
const CAPGO_WORDS = /\b(apps?|channels?|bundles?)\b/i

let browser: Browser
let server: TestServer
let dir: string
let shot: (page: Page, name: string) => Promise<unknown>
let file: string

beforeAll(async () => {
  const docs = await readFile(DOCS, 'utf8')
  const example = /<!-- example: launchpad.yaml -->\n```yaml\n([\s\S]*?)\n```/.exec(docs)?.[1]
  expect(example, 'docs/models.md carries the example').toBeTruthy()
  dir = await mkdtemp(join(tmpdir(), 'orgkit-model-'))
  file = join(dir, 'launchpad.yaml')
  await writeFile(file, example!)
  const launched = await launch('custom-model')
  browser = launched.browser
  shot = screenshot(launched.artifacts)
  server = await startTestServer('pglite', {
    model: loadConfig({ ORGKIT_MODEL: file }).modelDefinition,
    localOutbox: true,
    consoleDir: CONSOLE_DIST,
  })
}, 180_000)

afterAll(async () => {
  await release(browser)
  await server?.stop()
  if (dir) await rm(dir, { recursive: true, force: true })
})

describe('a model of your own, from the docs (projects and environments)', () => {
  it('passes its own tests', () => {
    const { model, tests } = loadModelFile(file)
    expect(tests.length).toBeGreaterThan(0)
    expect(runModelTests(model, tests).flatMap((r) => r.failures)).toEqual([])
  })

  it('is served, used over the API, and spoken by the console', async () => {
    const model = (await server.platform.get('/v1/model')).body
    expect(model.name).toBe('launchpad')
    expect(Object.keys(model.resourceTypes)).toEqual(['project', 'environment'])
    expect(model.roles.maintainer.permissions).toContain('environment.deploy')

    const { page, userId: olga } = await person(server, browser, 'Olga Owner', 'olga@example.com')
    try {
      const orgId = await createOrgApi(server, olga, 'Acme')
      const as = server.as(olga)
      const shop = await as.post(`/v1/orgs/${orgId}/resources`, { type: 'project', name: 'Shop' })
      expect(shop.status, JSON.stringify(shop.body)).toBe(201)
      const prod = await as.post(`/v1/orgs/${orgId}/resources`, {
        type: 'environment',
        name: 'Production',
        parentId: shop.body.id,
      })
      expect(prod.status, JSON.stringify(prod.body)).toBe(201)
      const bob = await provision(server, 'Bob Deployer', 'bob@example.com')
      expect(
        (await server.platform.post(`/v1/orgs/${orgId}/members`, { userId: bob, roles: ['member'] })).status,
      ).toBe(201)
      const bound = await as.post(`/v1/orgs/${orgId}/bindings`, {
        principal: { type: 'user', id: bob },
        role: 'deployer',
        resourceId: shop.body.id,
      })
      expect(bound.status, JSON.stringify(bound.body)).toBe(201)
      const check = async (permission: string) =>
        (
          await server.platform.post('/v1/check', {
            subject: { type: 'user', id: bob },
            permission,
            resource: { type: 'environment', id: prod.body.id },
          })
        ).body.allowed
      expect([await check('environment.deploy'), await check('environment.configure')]).toEqual([true, false])
      // A role of the model bound where it does not belong is refused in the model's terms.
      const misplaced = await as.post(`/v1/orgs/${orgId}/bindings`, {
        principal: { type: 'user', id: bob },
        role: 'deployer',
        resourceId: prod.body.id,
      })
      expect(misplaced.status).toBe(400)

      // The console: Projects (with the model's folder icon) in the navigation, the project, its environments.
      await go(page, `${server.url}/orgs/${orgId}/apps`)
      const nav = page.getByRole('navigation')
      await nav.getByText('Projects', { exact: true }).waitFor()
      expect(await nav.locator('[data-icon="folder"]').count()).toBe(1)
      await page.getByText('Shop').first().waitFor()
      await expectAccessible(page, 'projects')
      expect((await page.locator('body').innerText()).match(CAPGO_WORDS)?.[0]).toBeUndefined()

      await go(page, `${server.url}/orgs/${orgId}/apps/${shop.body.id}`)
      await page.getByRole('tab', { name: 'Environments' }).waitFor()
      await page.getByText('Production').first().waitFor()
      await expectAccessible(page, 'project')
      expect((await page.locator('body').innerText()).match(CAPGO_WORDS)?.[0]).toBeUndefined()

      // The project's access lists Bob as a Deployer; its role picker offers the project's roles only.
      await page.getByRole('tab', { name: 'Access' }).click()
      await page.getByText('bob@example.com').first().waitFor()
      await page.getByText('Deployer', { exact: true }).first().waitFor()
      await page.getByRole('button', { name: 'Add access' }).click()
      await page.getByRole('dialog').getByRole('combobox', { name: 'Role' }).click()
      const offered = await page.getByRole('option').allInnerTexts()
      expect(offered.map((o) => o.split('\n')[0]!.trim()).sort()).toEqual(['Deployer', 'Maintainer'])
      await expectAccessible(page, 'add access')
      expect((await page.locator('body').innerText()).match(CAPGO_WORDS)?.[0]).toBeUndefined()
    } catch (error) {
      await shot(page, 'failure')
      throw error
    }
  }, 120_000)
})
