import { afterAll, beforeAll } from 'vitest'
import { startTestServer, type TestServer } from './harness.ts'

export interface CapgoWorld {
  orgId: string
  appId: string
  stagingId: string
  productionId: string
  /** User ids by the role they hold: creator (super admin), org roles, and app roles on the app. */
  users: Record<
    | 'creator'
    | 'admin'
    | 'billing'
    | 'member'
    | 'appAdmin'
    | 'appDeveloper'
    | 'appUploader'
    | 'appReader'
    | 'outsider',
    string
  >
}

/**
 * Seed 001's shape, built through the API: the creator makes the org, an app and two channels; one member
 * per org role; one external account per app role on the app; and an outsider.
 */
export async function capgoWorld(s: TestServer): Promise<CapgoWorld> {
  const creator = await s.user('Creator')
  const created = await s.as(creator).post('/v1/orgs', { name: 'Acme' })
  const orgId = created.body.id as string
  const app = await s.as(creator).post(`/v1/orgs/${orgId}/resources`, { type: 'app', name: 'Shop' })
  const appId = app.body.id as string
  const channel = async (name: string) =>
    (await s.as(creator).post(`/v1/orgs/${orgId}/resources`, { type: 'channel', name, parentId: appId })).body
      .id as string
  const stagingId = await channel('staging')
  const productionId = await channel('production')
  const member = async (name: string, role: string) => {
    const id = await s.user(name)
    const reply = await s.platform.post(`/v1/orgs/${orgId}/members`, { userId: id, roles: [role] })
    if (reply.status !== 201) throw new Error(JSON.stringify(reply.body))
    return id
  }
  const external = async (name: string, role: string) => {
    const id = await s.user(name)
    const reply = await s.platform.post(`/v1/orgs/${orgId}/bindings`, {
      principal: { type: 'user', id },
      role,
      resourceId: appId,
    })
    if (reply.status !== 201) throw new Error(JSON.stringify(reply.body))
    return id
  }
  return {
    orgId,
    appId,
    stagingId,
    productionId,
    users: {
      creator,
      admin: await member('Admin', 'org_admin'),
      billing: await member('Billing', 'org_billing_admin'),
      member: await member('Member', 'org_member'),
      appAdmin: await external('AppAdmin', 'app_admin'),
      appDeveloper: await external('AppDeveloper', 'app_developer'),
      appUploader: await external('AppUploader', 'app_uploader'),
      appReader: await external('AppReader', 'app_reader'),
      outsider: await s.user('Outsider'),
    },
  }
}

/**
 * A describe's own test server (started with `options`) with a `capgoWorld` in it, started before its tests
 * and stopped after them. Both objects are filled in by that `beforeAll` (empty until it has run), so tests use them as they are:
 * `const { s, w } = useCapgoServer(database)`, and a `beforeAll` of the describe's own after that line sees
 * them filled (vitest runs a describe's before-hooks in the order they were registered).
 */
export function useCapgoServer(
  database: 'pglite' | 'postgres',
  options?: Parameters<typeof startTestServer>[1],
): { s: TestServer; w: CapgoWorld } {
  const s = {} as TestServer
  const w = {} as CapgoWorld
  beforeAll(async () => {
    Object.assign(s, await startTestServer(database, options))
    Object.assign(w, await capgoWorld(s))
  })
  afterAll(() => s.stop?.())
  return { s, w }
}
