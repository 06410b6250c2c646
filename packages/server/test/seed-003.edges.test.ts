import { presets } from '@orgkit/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DATABASES, startTestServer, type TestServer } from './support/harness.ts'
import { runMigration0013, writeOldCopy } from './support/old-style.ts'
import { acceptInvitation, invite, type Person, signUp } from './support/sessions.ts'

/**
 * Seed 003 (Copia, `teams` preset) at its edges (issue 19.6), walked by signed-in people and their API keys.
 */
describe.each(DATABASES)('seed 003 at its edges, as signed-in people (%s)', (db) => {
  let s: TestServer
  let olga: Person
  let uma: Person
  let vic: Person
  let org: string
  let teamA: string
  let teamB: string
  beforeAll(async () => {
    s = await startTestServer(db, { model: presets.teams! })
    olga = await signUp(s, 'Olga')
    org = (await olga.post('/v1/orgs', { name: 'copia' })).body.id
    const join = async (name: string) => {
      const person = await signUp(s, name, `${name.toLowerCase()}@example.com`)
      expect((await invite(s, olga, org, { email: person.email, role: 'member' })).status).toBe(201)
      expect((await acceptInvitation(s, person)).status).toBe(200)
      return person
    }
    uma = await join('Uma')
    vic = await join('Vic')
    const team = async (name: string) => {
      const id = (await olga.post(`/v1/orgs/${org}/groups`, { name, role: 'read' })).body.id as string
      const bound = await olga.post(`/v1/orgs/${org}/bindings`, {
        principal: { type: 'group', id },
        role: 'team',
      })
      expect(bound.status).toBe(201)
      return id
    }
    teamA = await team('Team A')
    teamB = await team('Team B')
    for (const [who, level] of [
      [uma, 'admin'],
      [vic, 'read'],
    ] as const)
      expect(
        (await olga.put(`/v1/orgs/${org}/groups/${teamA}/members/${who.id}`, { memberRole: level })).status,
      ).toBe(200)
    expect((await olga.put(`/v1/orgs/${org}/groups/${teamB}/members/${vic.id}`, {})).status).toBe(200)
  })
  afterAll(() => s?.stop())

  it('"You can add or modify the organization name, full name and description … a related website or location … avatar"', async () => {
    const profile = {
      name: 'copia',
      fullName: 'Copia Automation',
      description: 'Version control for industrial automation',
      website: 'https://copia.example',
      location: 'Boston',
      logoUrl: 'https://copia.example/avatar.png',
    }
    const saved = await olga.patch(`/v1/orgs/${org}`, profile)
    expect(saved.status).toBe(200)
    expect(saved.body).toMatchObject(profile)
    expect((await (await olga.key()).get(`/v1/orgs/${org}`)).body).toMatchObject(profile)
    // "Organization settings are accessible for organization owners": not for a member.
    const refused = await vic.patch(`/v1/orgs/${org}`, { location: 'Elsewhere' })
    expect([refused.status, refused.body.code]).toEqual([403, 'FORBIDDEN'])
  })

  it('"allowing team administrators to set different permission levels for individual members within the team"', async () => {
    // Uma holds Team A's Admin level: she sets Vic's level there.
    const set = await uma.put(`/v1/orgs/${org}/groups/${teamA}/members/${vic.id}`, { memberRole: 'write' })
    expect(set.status).toBe(200)
    const team = (await olga.get(`/v1/orgs/${org}/groups/${teamA}`)).body
    expect(team.members.find((m: { userId: string }) => m.userId === vic.id)).toMatchObject({
      memberRole: 'write',
      effectiveRole: 'write',
      memberRoleSuspended: false,
    })
    // Only in her own team, only for its members, and not through an API key; Vic (Write) may not.
    expect(
      (await uma.put(`/v1/orgs/${org}/groups/${teamB}/members/${vic.id}`, { memberRole: 'write' })).status,
    ).toBe(403)
    expect(
      (await uma.put(`/v1/orgs/${org}/groups/${teamA}/members/${olga.id}`, { memberRole: 'read' })).status,
    ).toBe(403)
    expect(
      (
        await (
          await uma.key()
        ).put(`/v1/orgs/${org}/groups/${teamA}/members/${vic.id}`, { memberRole: 'read' })
      ).status,
    ).toBe(403)
    expect(
      (await vic.put(`/v1/orgs/${org}/groups/${teamA}/members/${uma.id}`, { memberRole: 'read' })).status,
    ).toBe(403)
  })

  it('with single-role teams on, per-member levels are suspended: shown, kept, not editable; off again, they are back', async () => {
    expect((await olga.patch(`/v1/orgs/${org}`, { singleRoleTeams: true })).body.singleRoleTeams).toBe(true)
    const team = (await olga.get(`/v1/orgs/${org}/groups/${teamA}`)).body
    // "When single-role teams are first enabled, all teams besides the Owners team will be set to Read access."
    expect(team.role).toBe('read')
    expect(team.members.find((m: { userId: string }) => m.userId === vic.id)).toMatchObject({
      memberRole: 'write',
      memberRoleSuspended: true,
      effectiveRole: 'read',
    })
    const refused = await olga.put(`/v1/orgs/${org}/groups/${teamA}/members/${vic.id}`, {
      memberRole: 'admin',
    })
    expect([refused.status, refused.body.code]).toEqual([409, 'MEMBER_ROLES_SUSPENDED'])
    // Putting the member again without a level keeps the suspended one.
    expect((await olga.put(`/v1/orgs/${org}/groups/${teamA}/members/${vic.id}`, {})).status).toBe(200)
    expect((await olga.patch(`/v1/orgs/${org}`, { singleRoleTeams: false })).status).toBe(200)
    const back = (await olga.get(`/v1/orgs/${org}/groups/${teamA}`)).body
    expect(back.members.find((m: { userId: string }) => m.userId === vic.id)).toMatchObject({
      memberRole: 'write',
      memberRoleSuspended: false,
      effectiveRole: 'write',
    })
  })

  it('migration 0013: an org made before issue 19.2, its owners held by binding beside the Owners team, keeps one fact', async () => {
    const wes = await signUp(s, 'Wes', 'wes@example.com')
    expect((await invite(s, olga, org, { email: wes.email, role: 'member' })).status).toBe(201)
    expect((await acceptInvitation(s, wes)).status).toBe(200)
    // As the old version left them: the creator's ownership also a binding of her own, and Wes made an owner
    // by a binding alone, outside the Owners team.
    await writeOldCopy(s, org, olga.id, 'owner')
    await writeOldCopy(s, org, wes.id, 'owner')
    await runMigration0013(s)
    await runMigration0013(s) // idempotent
    const row = async (who: Person) =>
      (await olga.get(`/v1/orgs/${org}/members`)).body.items.find(
        (m: { userId: string }) => m.userId === who.id,
      )
    const ownBindings = async (who: Person) =>
      (await s.platform.get(`/v1/orgs/${org}/bindings?userId=${who.id}`)).body.items
        .filter((b: { resourceId: string | null }) => b.resourceId === null)
        .map((b: { role: string }) => b.role)
    // Ownership is the Owners team's: both are in it, neither holds it by a binding of their own.
    for (const who of [olga, wes]) {
      expect((await row(who)).groups.map((g: { name: string }) => g.name)).toContain('Owners')
      expect(await ownBindings(who)).not.toContain('owner')
    }
    expect((await row(wes)).roles).toEqual(['owner', 'member'])
    const settings = { permission: 'org.update_settings', resource: { type: 'org', id: org } }
    expect((await wes.post('/v1/check', settings)).body.allowed).toBe(true)
    // And leaving the team ends it, in the engine as in the lists.
    const owners = (await row(wes)).groups.find((g: { name: string }) => g.name === 'Owners').id
    expect((await olga.delete(`/v1/orgs/${org}/groups/${owners}/members/${wes.id}`)).status).toBe(200)
    expect((await row(wes)).roles).toEqual(['member'])
    expect((await wes.post('/v1/check', settings)).body.allowed).toBe(false)
  })
})
