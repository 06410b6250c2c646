import { randomUUID } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { invitations, orgs, resources, type Tx } from '../src/index.ts'
import { newApp, newOrg } from './support/org-rows.ts'
import { TARGETS, useStore } from './support/targets.ts'

/**
 * Migration 0011 (issue 19): seed 003's org profile, and invitations that carry more org roles (seed 004)
 * or one resource's role (seed 002).
 */
describe.each(TARGETS)('org profile and invitation scope (%s)', (kind) => {
  const handle = useStore(kind)
  const db = () => handle.store.db
  const inTx = <T>(fn: (tx: Tx) => Promise<T>) => db().transaction().execute(fn)
  const at = new Date('2031-01-01T00:00:00.000Z')

  it("keeps an org's full name, description, website and location; a new org has them empty", async () => {
    const id = await newOrg(db())
    expect(await orgs.findOrg(db(), id)).toMatchObject({
      full_name: '',
      description: '',
      website: null,
      location: '',
    })
    const patch = {
      full_name: 'Copia Automation',
      description: 'PLC code',
      website: 'https://copia.example',
      location: 'Boston',
    }
    const { value, changes } = await inTx((tx) => orgs.updateOrg(tx, id, patch, at))
    expect(value).toMatchObject(patch)
    // None of it is the engine's.
    expect(changes).toEqual([])
  })

  const invitation = (orgId: string, extra: { extraRoles?: string[]; resourceId?: string }) =>
    inTx((tx) =>
      invitations.insertInvitation(tx, {
        id: randomUUID(),
        orgId,
        email: `${randomUUID()}@example.com`,
        role: 'member',
        firstName: null,
        lastName: null,
        tokenHash: `hash-${randomUUID()}`,
        invitedBy: null,
        expiresAt: new Date(Date.now() + 86_400_000),
        ...extra,
      }),
    )

  it('stores the more roles an invitation gives, none by default', async () => {
    const org = await newOrg(db())
    expect(await invitation(org, {})).toMatchObject({ extra_roles: [], resource_id: null })
    const row = await invitation(org, { extraRoles: ['build_write', 'publish_read'] })
    expect(row.extra_roles).toEqual(['build_write', 'publish_read'])
    expect((await invitations.listOpen(db(), org)).map((r) => r.extra_roles)).toContainEqual([
      'build_write',
      'publish_read',
    ])
  })

  it('an invitation to one resource goes when the resource goes', async () => {
    const org = await newOrg(db())
    const app = await newApp(db(), org)
    const row = await invitation(org, { resourceId: app })
    expect(row.resource_id).toBe(app)
    await inTx((tx) => resources.deleteResource(tx, app))
    expect(await invitations.listOpen(db(), org)).toEqual([])
  })
})
