import { describe, expect, it } from 'vitest'
import { useCapgoServer } from './support/fixtures.ts'
import { DATABASES } from './support/harness.ts'

/**
 * Issue 22.6: `POST /v1/me/api-keys` with `"role": ""` made a key with no limit at all (the empty string
 * read as "no role given"). An empty limit is a mistake, never "no limit": every one of them answers 400
 * and makes no key.
 */
describe.each(DATABASES)('API key limits are never empty (%s)', (database) => {
  const { s, w } = useCapgoServer(database)

  const empties: [string, object][] = [
    ['an empty role', { role: '' }],
    ['an empty role beside orgs', { role: '', orgIds: ['<org>'] }],
    ['an empty list of orgs', { orgIds: [] }],
    ['an empty list of resources', { resourceIds: [] }],
    ['an empty list of permissions', { permissions: [] }],
    ['an empty permission', { permissions: [''] }],
  ]

  it.each(empties)('refuses %s with 400 and makes no key', async (_, limits) => {
    const owner = s.as(w.users.appDeveloper)
    const body = JSON.parse(JSON.stringify({ name: 'ci', ...limits }).replaceAll('<org>', w.orgId))
    const reply = await owner.post('/v1/me/api-keys', body)
    expect(reply.status).toBe(400)
    expect(['VALIDATION_FAILED', 'UNKNOWN_PERMISSION']).toContain(reply.body.code)
    expect((await owner.get('/v1/me/api-keys')).body.items).toEqual([])
  })

  it('still limits a key to the role it names', async () => {
    const owner = s.as(w.users.admin)
    const key = await owner.post('/v1/me/api-keys', { name: 'ro', role: 'org_member' })
    expect(key.status).toBe(201)
    expect(key.body.permissions).toEqual(expect.arrayContaining(['org.read']))
    expect(key.body.permissions).not.toContain('org.update_user_roles')
  })
})
