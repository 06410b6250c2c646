import { beforeAll, describe, expect, it } from 'vitest'
import { useCapgoServer } from './support/fixtures.ts'
import { DATABASES } from './support/harness.ts'

type Path = {
  kind: string
  through: { type: string; name: string }
  role: string | null
  scope: { type: string; name: string }
  inherited: boolean
}
type Person = { user: { id: string; external: boolean }; paths: Path[] }

/**
 * Issue 26.4: who reaches a resource and every way each does (`GET …/resources/{id}/reach`), from the
 * engine: org roles, app roles of their own or of a group, what a channel inherits from its app, an allow
 * override; read by whoever may read access, refused to others.
 */
describe.each(DATABASES)('who reaches a resource, and how (%s)', (database) => {
  const { s, w } = useCapgoServer(database)
  let qa: string

  beforeAll(async () => {
    qa = (await s.platform.post(`/v1/orgs/${w.orgId}/groups`, { name: 'QA' })).body.id
    await s.platform.put(`/v1/orgs/${w.orgId}/groups/${qa}/members/${w.users.member}`, {})
    await s.platform.post(`/v1/orgs/${w.orgId}/bindings`, {
      principal: { type: 'group', id: qa },
      role: 'app_developer',
      resourceId: w.appId,
    })
    await s.platform.put(`/v1/orgs/${w.orgId}/resources/${w.productionId}/overrides`, {
      principal: { type: 'user', id: w.users.billing },
      permission: 'channel.read',
      effect: 'allow',
    })
  }, 120_000)

  const reach = async (id: string, as = w.users.creator) =>
    s.as(as).get(`/v1/orgs/${w.orgId}/resources/${id}/reach`)
  const byId = (people: Person[]) => new Map(people.map((p) => [p.user.id, p]))
  const how = (p: Path) =>
    `${p.kind} ${p.role ?? ''} on ${p.scope.type} ${p.scope.name} through ${p.through.type} ${p.through.name}`

  it('lists everyone who may read the app with each way: org role, own app role, a group’s app role', async () => {
    const reply = await reach(w.appId)
    expect(reply.status).toBe(200)
    expect(reply.body).toMatchObject({
      resource: { type: 'app', id: w.appId, name: 'Shop' },
      permission: 'app.read',
    })
    const people = byId(reply.body.people)
    const u = w.users
    expect(new Set(people.keys())).toEqual(
      new Set([u.creator, u.admin, u.member, u.appAdmin, u.appDeveloper, u.appUploader, u.appReader]),
    )
    // A group's role counts for its org's members only; an external account reaches through its own.
    expect(people.get(u.member)!.paths.map(how)).toEqual([
      'role app_developer on app Shop through group QA',
      'role org_member on org Acme through user Member',
    ])
    expect(people.get(u.member)!.paths.map((p) => p.inherited)).toEqual([false, true])
    expect(people.get(u.appReader)!.paths.map(how)).toEqual([
      'role app_reader on app Shop through user AppReader',
    ])
    expect(people.get(u.appReader)!.user.external).toBe(true)
    expect(people.get(u.member)!.user.external).toBe(false)
  })

  it('a channel: what its app gives (inherited) and an allow override on it', async () => {
    const people = byId((await reach(w.productionId)).body.people)
    expect(people.get(w.users.appReader)!.paths.every((p) => p.inherited && p.scope.type === 'app')).toBe(
      true,
    )
    expect(people.get(w.users.billing)!.paths.map(how)).toEqual([
      'override  on channel production through user Billing',
    ])
    expect(people.has(w.users.outsider)).toBe(false)
  })

  it('is read by who may read or manage access, refused to an App Reader, 404 to an outsider', async () => {
    expect((await reach(w.appId, w.users.appAdmin)).status).toBe(200)
    const reader = await reach(w.appId, w.users.appReader)
    expect(reader.status).toBe(403)
    expect(reader.body.code).toBe('FORBIDDEN')
    expect((await reach(w.appId, w.users.outsider)).status).toBe(404)
    expect((await s.platform.get(`/v1/orgs/${w.orgId}/resources/${crypto.randomUUID()}/reach`)).status).toBe(
      404,
    )
  })
})
