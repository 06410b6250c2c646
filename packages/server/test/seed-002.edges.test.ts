import { presets } from '@orgkit/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DATABASES, startTestServer, type TestServer } from './support/harness.ts'
import { runMigration0013, writeOldCopy } from './support/old-style.ts'
import { acceptInvitation, invite, linkFor, type Person, signUp } from './support/sessions.ts'

/**
 * Seed 002 (APImetrics "Organizations", `projects` preset) at its edges (issue 19.7), walked by signed-in
 * people and their API keys.
 */
describe.each(DATABASES)('seed 002 at its edges, as signed-in people (%s)', (db) => {
  let s: TestServer
  let ada: Person
  let org: string
  let checkout: string
  let internal: string
  beforeAll(async () => {
    s = await startTestServer(db, { model: presets.projects! })
    ada = await signUp(s, 'Ada')
    org = (await ada.post('/v1/orgs', { name: 'Acme' })).body.id
    checkout = (await ada.post(`/v1/orgs/${org}/resources`, { type: 'project', name: 'Checkout API' })).body
      .id
    internal = (await ada.post(`/v1/orgs/${org}/resources`, { type: 'project', name: 'Internal' })).body.id
  })
  afterAll(() => s?.stop())

  it('an ADMIN gives project access to an outside person by email; on accepting they are external with that project only', async () => {
    const sent = await invite(s, ada, org, {
      email: 'out@partner.example',
      role: 'project_editor',
      resourceId: checkout,
    })
    expect(sent.status).toBe(201)
    expect(sent.body).toMatchObject({ resourceId: checkout, roles: ['project_editor'] })
    // Pending, and not a member.
    const pending = (await ada.get(`/v1/orgs/${org}/members`)).body.items.find(
      (m: { email: string }) => m.email === 'out@partner.example',
    )
    expect(pending).toMatchObject({ status: 'pending', source: 'external', roles: ['project_editor'] })

    const out = await signUp(s, 'Olu', 'out@partner.example')
    const accepted = await acceptInvitation(s, out)
    expect(accepted.status).toBe(200)
    expect(accepted.body).toMatchObject({ orgId: org, resourceId: checkout })
    expect((await out.get('/v1/orgs')).body.items).toMatchObject([{ id: org, belonging: 'external' }])
    // That project only: listed, editable; the other one is not there for them.
    const listed = (await out.get(`/v1/orgs/${org}/resources?type=project`)).body.items
    expect(listed.map((p: { id: string }) => p.id)).toEqual([checkout])
    const check = async (permission: string, id: string) =>
      (await out.post('/v1/check', { permission, resource: { type: 'project', id } })).body.allowed
    expect(await check('project.write', checkout)).toBe(true)
    expect(await check('project.read', internal)).toBe(false)
    expect((await out.get(`/v1/orgs/${org}/resources/${internal}`)).status).toBe(404)
    // Not a member: no Accounts list, no admin page.
    expect((await out.get(`/v1/orgs/${org}/members`)).status).toBe(403)
    // Their API key reaches the same project and no more.
    const key = await out.key()
    expect(
      (
        await key.post('/v1/check', {
          permission: 'project.write',
          resource: { type: 'project', id: checkout },
        })
      ).body.allowed,
    ).toBe(true)
  })

  it('a project given by email beside an open member invitation: one open invitation per target, each accepted for what it grants', async () => {
    const kim = await signUp(s, 'Kim', 'kim@partner.example')
    expect((await invite(s, ada, org, { email: kim.email, role: 'org_member' })).status).toBe(201)
    const asMember = await linkFor(s, kim.email, 'invitations/')
    const toProject = { email: kim.email, role: 'project_editor', resourceId: checkout }
    expect((await invite(s, ada, org, toProject)).status).toBe(201)
    // The newest link to Kim that isn't the first (two mails may share a timestamp).
    let asEditor = asMember
    while (asEditor === asMember) {
      const mails = (await s.platform.get('/v1/outbox')).body.items as { to: string; text: string }[]
      const links = mails
        .filter((m) => m.to === kim.email)
        .map((m) => m.text.match(/invitations\/(oki_[\w-]+)/)?.[1])
      asEditor = links.find((l) => l && l !== asMember) ?? asMember
    }
    // The same target twice is still one too many.
    for (const again of [toProject, { email: 'KIM@partner.example', role: 'org_member' }]) {
      const refused = await invite(s, ada, org, again)
      expect([refused.status, refused.body.code]).toEqual([409, 'ALREADY_EXISTS'])
    }
    const pending = (await ada.get(`/v1/orgs/${org}/members`)).body.items.filter(
      (m: { email: string }) => m.email === kim.email,
    )
    expect(pending.map((m: { source: string }) => m.source).sort()).toEqual(['direct', 'external'])
    // The project first: external, with that project.
    expect((await kim.post(`/v1/invitations/${asEditor}/accept`)).status).toBe(200)
    const belonging = async () =>
      (await kim.get('/v1/orgs')).body.items.find((o: { id: string }) => o.id === org)?.belonging
    expect(await belonging()).toBe('external')
    const write = { permission: 'project.write', resource: { type: 'project', id: checkout } }
    expect((await kim.post('/v1/check', write)).body.allowed).toBe(true)
    // Then the membership: a member, the project kept.
    expect((await kim.post(`/v1/invitations/${asMember}/accept`)).status).toBe(200)
    expect(await belonging()).toBe('member')
    expect((await kim.post('/v1/check', write)).body.allowed).toBe(true)
  })

  it('"The next section lists all the Projects in the Organization, and who has access to them, and at what level": external accounts marked', async () => {
    const access = await ada.get(`/v1/orgs/${org}/resources/${checkout}/access`)
    expect(access.status).toBe(200)
    const outsider = access.body.entries.find(
      (e: { principal: { email?: string } }) => e.principal.email === 'out@partner.example',
    )
    expect(outsider).toMatchObject({ role: 'project_editor', principal: { external: true } })
    // A member given access directly is grey, not blue.
    const ben = await signUp(s, 'Ben', 'ben@example.com')
    await invite(s, ada, org, { email: ben.email, role: 'org_member' })
    expect((await acceptInvitation(s, ben)).status).toBe(200)
    expect(
      (
        await ada.post(`/v1/orgs/${org}/bindings`, {
          principal: { type: 'user', id: ben.id },
          role: 'project_viewer',
          resourceId: checkout,
        })
      ).status,
    ).toBe(201)
    const entries = (await ada.get(`/v1/orgs/${org}/resources/${checkout}/access`)).body.entries
    expect(entries.find((e: { principal: { id: string } }) => e.principal.id === ben.id)).toMatchObject({
      role: 'project_viewer',
      principal: { external: false },
    })
    // The Accounts list marks the outsider too.
    const members = (await ada.get(`/v1/orgs/${org}/members`)).body.items
    expect(members.find((m: { email: string }) => m.email === 'out@partner.example')).toMatchObject({
      source: 'external',
    })
  })

  it('"If a Project has no roles or accounts assigned, it can be removed"', async () => {
    const old = (await ada.post(`/v1/orgs/${org}/resources`, { type: 'project', name: 'Old' })).body.id
    expect((await ada.delete(`/v1/orgs/${org}/resources/${old}`)).status).toBe(200)
    const kept = await ada.delete(`/v1/orgs/${org}/resources/${checkout}`)
    expect([kept.status, kept.body.code]).toEqual([409, 'RESOURCE_IN_USE'])
  })

  it('"You may assign each account multiple Roles", and the Accounts list shows them all', async () => {
    const ben = (await ada.get(`/v1/orgs/${org}/members`)).body.items.find(
      (m: { email: string }) => m.email === 'ben@example.com',
    )
    const qa = (await ada.post(`/v1/orgs/${org}/groups`, { name: 'QA' })).body.id
    const ops = (await ada.post(`/v1/orgs/${org}/groups`, { name: 'Ops' })).body.id
    const key = await ada.key()
    expect((await key.put(`/v1/orgs/${org}/groups/${qa}/members/${ben.userId}`, {})).status).toBe(200)
    expect((await ada.put(`/v1/orgs/${org}/groups/${ops}/members/${ben.userId}`, {})).status).toBe(200)
    const listed = (await key.get(`/v1/orgs/${org}/members`)).body.items.find(
      (m: { userId: string }) => m.userId === ben.userId,
    )
    // "By default, when joined, they will have the DEFAULT role", and the two given.
    expect(listed.groups.map((g: { name: string }) => g.name).sort()).toEqual(['DEFAULT', 'Ops', 'QA'])
    const adaRow = (await ada.get(`/v1/orgs/${org}/members`)).body.items.find(
      (m: { userId: string }) => m.userId === ada.id,
    )
    expect(adaRow.groups.map((g: { name: string }) => g.name).sort()).toEqual(['ADMIN', 'DEFAULT'])
  })

  it('migration 0013: an org made before issue 19.2, its ADMIN role held by binding beside the ADMIN group, keeps one fact', async () => {
    const pat = await signUp(s, 'Pat', 'pat@example.com')
    expect((await invite(s, ada, org, { email: pat.email, role: 'org_member' })).status).toBe(201)
    expect((await acceptInvitation(s, pat)).status).toBe(200)
    // As the old version left them: Ada's ADMIN role also a binding of her own, Pat given ADMIN by a binding
    // alone (outside the ADMIN group), and the DEFAULT role copied onto Pat's own binding.
    await writeOldCopy(s, org, ada.id, 'org_admin')
    await writeOldCopy(s, org, pat.id, 'org_admin')
    await writeOldCopy(s, org, pat.id, 'org_member')
    await runMigration0013(s)
    await runMigration0013(s) // idempotent
    const row = async (who: Person) =>
      (await ada.get(`/v1/orgs/${org}/members`)).body.items.find(
        (m: { userId: string }) => m.userId === who.id,
      )
    const ownOrgRoles = async (who: Person) =>
      (await s.platform.get(`/v1/orgs/${org}/bindings?userId=${who.id}`)).body.items
        .filter((b: { resourceId: string | null }) => b.resourceId === null)
        .map((b: { role: string }) => b.role)
    for (const who of [ada, pat]) {
      expect((await row(who)).groups.map((g: { name: string }) => g.name).sort()).toEqual([
        'ADMIN',
        'DEFAULT',
      ])
      expect(await ownOrgRoles(who)).toEqual([])
    }
    const admin = { permission: 'org.update_settings', resource: { type: 'org', id: org } }
    expect((await pat.post('/v1/check', admin)).body.allowed).toBe(true)
    // Out of the ADMIN group, out of the ADMIN role: the group and the role can't disagree.
    const adminGroup = (await row(pat)).groups.find((g: { name: string }) => g.name === 'ADMIN').id
    expect((await ada.delete(`/v1/orgs/${org}/groups/${adminGroup}/members/${pat.id}`)).status).toBe(200)
    expect((await row(pat)).roles).toEqual(['org_member'])
    expect((await pat.post('/v1/check', admin)).body.allowed).toBe(false)
  })
})
