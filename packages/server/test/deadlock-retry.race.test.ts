import { presets } from '@orgkit/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DATABASES, startTestServer, type TestServer } from './support/harness.ts'
import { raceRounds } from './support/races.ts'

/**
 * Two writes locking two orgs in opposite orders: a member's removal from an org takes its sub-orgs' locks
 * after its own; a resource's transfer from a sub-org up to that org takes the sub-org's first. PostgreSQL
 * breaks such a deadlock by ending one transaction (40P01): `write` runs it again, so both requests succeed,
 * neither answers 500 (review: 13 of 15 races did, before).
 */
/** Capgo's apps, in orgs that may have sub-orgs. */
const capgo = presets.capgo!
const model = { ...capgo, name: 'capgo-sub-orgs', org: { ...capgo.org, subOrgs: true } }

describe.each(DATABASES)('writes locking two orgs in opposite orders (%s)', (database) => {
  const rounds = raceRounds(database, 4)
  let s: TestServer
  beforeAll(async () => {
    s = await startTestServer(database, { model })
  }, 60_000)
  afterAll(() => s?.stop())

  it(`removes a member from an org while an app moves up from its sub-org, ${rounds} times`, async () => {
    const admin = await s.user('Admin')
    const parent = (await s.as(admin).post('/v1/orgs', { name: 'Parent' })).body.id as string
    for (let round = 0; round < rounds; round++) {
      const child = (await s.as(admin).post('/v1/orgs', { name: `Child ${round}`, parentId: parent })).body
        .id as string
      const app = (await s.platform.post(`/v1/orgs/${child}/resources`, { type: 'app', name: `A${round}` }))
        .body.id as string
      expect(app).toBeTruthy()
      const u = await s.user(`U${round}`)
      expect((await s.platform.post(`/v1/orgs/${parent}/members`, { userId: u })).status).toBe(201)
      const [removed, moved] = await Promise.all([
        s.platform.delete(`/v1/orgs/${parent}/members/${u}`),
        s.platform.post(`/v1/orgs/${child}/resources/${app}/transfer`, { toOrgId: parent }),
      ])
      expect([removed.status, moved.status], JSON.stringify([removed.body, moved.body])).toEqual([200, 200])
    }
  }, 120_000)
})
