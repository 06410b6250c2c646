import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DATABASES, startTestServer, type TestServer } from './support/harness.ts'
import { raceRounds } from './support/races.ts'

/**
 * SPEC 2: an org always keeps an active owner. Two owners demoting each other (or themselves) at the same
 * moment: exactly one succeeds, every time. On PostgreSQL the requests run on separate connections at
 * once; the org row lock is what makes this hold (remove it and the test fails within a few rounds).
 */
describe.each(DATABASES)('last owner under concurrency (%s)', (database) => {
  const rounds = raceRounds(database, 30)
  const fewer = raceRounds(database, 6)
  let s: TestServer
  beforeAll(async () => {
    s = await startTestServer(database)
  }, 60_000)
  afterAll(() => s?.stop())

  async function twoOwners() {
    const creator = await s.user('Creator')
    const orgId = (await s.as(creator).post('/v1/orgs', { name: 'Race' })).body.id as string
    const x = await s.user('X')
    const y = await s.user('Y')
    for (const id of [x, y])
      await s.platform.post(`/v1/orgs/${orgId}/members`, { userId: id, roles: ['org_super_admin'] })
    // The creator steps down: X and Y are the last two owners.
    const stepDown = await s
      .as(creator)
      .patch(`/v1/orgs/${orgId}/members/${creator}`, { roles: ['org_admin'] })
    expect(stepDown.status).toBe(200)
    return { orgId, x, y }
  }

  /**
   * `count` orgs with two last owners each, made 4 at a time before any race: the making is most of the
   * requests, and each race below still runs alone, its two requests at once on a server doing nothing else.
   */
  async function orgsWithTwoOwners(count: number, then?: (org: { x: string; y: string }) => Promise<void>) {
    const made: Awaited<ReturnType<typeof twoOwners>>[] = []
    let next = 0
    const lane = async () => {
      while (next < count) {
        next++
        const org = await twoOwners()
        await then?.(org)
        made.push(org)
      }
    }
    await Promise.all([lane(), lane(), lane(), lane()])
    return made
  }

  const owners = async (orgId: string) =>
    (await s.platform.get(`/v1/orgs/${orgId}/members`)).body.items.filter((m: { roles: string[] }) =>
      m.roles.includes('org_super_admin'),
    )

  it(`lets exactly one of two owners step down at once, ${rounds} times`, async () => {
    for (const [round, { orgId, x, y }] of (await orgsWithTwoOwners(rounds)).entries()) {
      const replies = await Promise.all([
        s.as(x).patch(`/v1/orgs/${orgId}/members/${x}`, { roles: ['org_member'] }),
        s.as(y).patch(`/v1/orgs/${orgId}/members/${y}`, { roles: ['org_member'] }),
      ])
      expect(replies.map((r) => r.status).sort(), `round ${round}`).toEqual([200, 409])
      expect(replies.find((r) => r.status === 409)!.body.code).toBe('LAST_OWNER')
      expect(await owners(orgId)).toHaveLength(1)
    }
  }, 240_000)

  it('lets exactly one of two crossed demotions through: the loser has lost the right to demote', async () => {
    for (const [round, { orgId, x, y }] of (await orgsWithTwoOwners(fewer)).entries()) {
      const replies = await Promise.all([
        s.as(x).patch(`/v1/orgs/${orgId}/members/${y}`, { roles: ['org_member'] }),
        s.as(y).patch(`/v1/orgs/${orgId}/members/${x}`, { roles: ['org_member'] }),
      ])
      expect(replies.map((r) => r.status).sort(), `round ${round}`).toEqual([200, 403])
      expect(await owners(orgId)).toHaveLength(1)
    }
  }, 240_000)

  it('lets exactly one of two owners leave at once', async () => {
    // Each has an org of their own to go to: leaving one's last org is refused anyway (seed 001, LAST_ORG).
    const orgs = await orgsWithTwoOwners(fewer, async ({ x, y }) => {
      for (const id of [x, y]) await s.as(id).post('/v1/orgs', { name: 'Own' })
    })
    for (const [round, { orgId, x, y }] of orgs.entries()) {
      const replies = await Promise.all([
        s.as(x).delete(`/v1/orgs/${orgId}/members/${x}`),
        s.as(y).delete(`/v1/orgs/${orgId}/members/${y}`),
      ])
      expect(replies.map((r) => r.status).sort(), `round ${round}`).toEqual([200, 409])
      expect(replies.find((r) => r.status === 409)!.body.code).toBe('LAST_OWNER')
      expect(await owners(orgId)).toHaveLength(1)
    }
  }, 240_000)
})
