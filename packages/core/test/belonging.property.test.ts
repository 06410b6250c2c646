import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Id, Snapshot, Subject } from '../src/engine/data.ts'
import { Authorizer, type Belonging } from '../src/index.ts'
import { capgo } from '../src/model/presets/capgo.ts'
import { NOW, orgChainIds, subjectsOf, worldArb } from './reference/world-arbitrary.ts'

/**
 * Belonging (SPEC 1.4) against a naive reading of the snapshot's records: member (an active membership or
 * a live org-scope binding), inherited (an active membership above, with sub-orgs), external (a live
 * binding on one of the org's resources, or a group of the org holding a live binding); API keys within
 * their org limits.
 */
const RUNS = Number(process.env.ORGKIT_PROPERTY_RUNS) || 200

const live = (expiresAt: number | null | undefined) => expiresAt == null || expiresAt > NOW

function reference(s: Snapshot, subject: Subject, orgId: Id, subOrgs: boolean): Belonging | null {
  let userId = subject.id
  if (subject.type === 'apiKey') {
    const key = s.apiKeys.find((k) => k.id === subject.id)
    if (!key || key.revoked || !live(key.expiresAt)) return null
    if (key.orgIds && !orgChainIds(s, orgId).some((o) => key.orgIds!.includes(o))) return null
    userId = key.ownerId
  }
  if (!s.users.some((u) => u.id === userId)) return null
  const active = new Set(
    s.memberships.filter((m) => m.userId === userId && m.status === 'active').map((m) => m.orgId),
  )
  const own = s.bindings.filter(
    (b) => b.principal.type === 'user' && b.principal.id === userId && live(b.expiresAt),
  )
  if (active.has(orgId) || own.some((b) => b.scope.type === 'org' && b.scope.id === orgId)) return 'member'
  if (
    subOrgs &&
    orgChainIds(s, orgId)
      .slice(1)
      .some((o) => active.has(o))
  )
    return 'inherited'
  const resourceOrg = new Map(s.resources.map((r) => [r.id, r.orgId]))
  if (own.some((b) => b.scope.type !== 'org' && resourceOrg.get(b.scope.id) === orgId)) return 'external'
  const groupsHere = s.groups.filter((g) => g.orgId === orgId).map((g) => g.id)
  const mine = new Set(s.groupMembers.filter((m) => m.userId === userId).map((m) => m.groupId))
  const bound = (groupId: Id) =>
    s.bindings.some((b) => b.principal.type === 'group' && b.principal.id === groupId && live(b.expiresAt))
  if (groupsHere.some((g) => mine.has(g) && bound(g))) return 'external'
  return null
}

describe('belonging', () => {
  it('answers every subject × org as the records say, and lists exactly those orgs', () => {
    fc.assert(
      fc.property(worldArb, (snapshot) => {
        const authz = new Authorizer(capgo, snapshot, { clock: () => NOW })
        const subOrgs = capgo.org.subOrgs
        for (const subject of subjectsOf(snapshot)) {
          const expected = new Map<Id, Belonging>()
          for (const org of snapshot.orgs) {
            const want = reference(snapshot, subject, org.id, subOrgs)
            expect(authz.belonging(subject, org.id), `${subject.type}:${subject.id} in ${org.id}`).toBe(want)
            if (want !== null) expected.set(org.id, want)
          }
          const listed = new Map(authz.orgsOf(subject).map((o) => [o.id, o.belonging]))
          expect(listed).toEqual(expected)
        }
      }),
      { numRuns: RUNS },
    )
  }, 120_000)

  it('tells the three apart on a small world', () => {
    const snapshot: Snapshot = {
      orgs: [
        { id: 'acme', parentId: null },
        { id: 'acme-eu', parentId: 'acme' },
        { id: 'other', parentId: null },
      ],
      resources: [{ id: 'shop', orgId: 'other', type: 'app', parentId: null }],
      users: [
        { id: 'ann', mfaEnabled: false },
        { id: 'bob', mfaEnabled: false },
        { id: 'cy', mfaEnabled: false },
      ],
      memberships: [{ orgId: 'acme', userId: 'ann', status: 'active' }],
      roles: [],
      groups: [],
      groupMembers: [],
      bindings: [
        {
          id: 'b1',
          principal: { type: 'user', id: 'ann' },
          role: 'org_super_admin',
          scope: { type: 'org', id: 'acme' },
        },
        {
          id: 'b2',
          principal: { type: 'user', id: 'bob' },
          role: 'app_admin',
          scope: { type: 'app', id: 'shop' },
        },
        {
          id: 'b3',
          principal: { type: 'user', id: 'cy' },
          role: 'app_admin',
          scope: { type: 'app', id: 'shop' },
          expiresAt: NOW - 1,
        },
      ],
      overrides: [],
      apiKeys: [],
    }
    const authz = new Authorizer(capgo, snapshot, { clock: () => NOW })
    const user = (id: string): Subject => ({ type: 'user', id })
    expect(authz.belonging(user('ann'), 'acme')).toBe('member')
    expect(authz.belonging(user('ann'), 'acme-eu')).toBe(capgo.org.subOrgs ? 'inherited' : null)
    expect(authz.belonging(user('bob'), 'other')).toBe('external')
    expect(authz.belonging(user('bob'), 'acme')).toBe(null)
    expect(authz.belonging(user('cy'), 'other')).toBe(null) // an expired binding counts for nothing
    expect(authz.orgsOf(user('bob'))).toEqual([{ id: 'other', belonging: 'external' }])
  })
})
