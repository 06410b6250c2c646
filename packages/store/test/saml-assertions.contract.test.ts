import { randomUUID } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { samlAssertions } from '../src/index.ts'
import { TARGETS, useStore } from './support/targets.ts'

describe.each(TARGETS)('saml assertions repository (%s)', (kind) => {
  const handle = useStore(kind)
  const db = () => handle.store.db
  const now = new Date('2030-01-01T00:00:00Z')
  const expiresAt = new Date('2030-01-01T00:07:00Z')
  const rows = (connectionId: string) =>
    db().selectFrom('saml_assertions_used').selectAll().where('connection_id', '=', connectionId).execute()

  it('spends an assertion id once per connection: a replay is refused, another connection is apart', async () => {
    const connectionId = randomUUID()
    const spend = (assertionId: string, connection = connectionId) =>
      samlAssertions.spendAssertion(db(), { connectionId: connection, assertionId, expiresAt, now })
    expect(await spend('_a1')).toBe(true)
    expect(await spend('_a1')).toBe(false)
    expect(await spend('_a2')).toBe(true)
    expect(await spend('_a1', randomUUID())).toBe(true)
    expect(await rows(connectionId)).toEqual([
      { connection_id: connectionId, assertion_id: '_a1', expires_at: expiresAt },
      { connection_id: connectionId, assertion_id: '_a2', expires_at: expiresAt },
    ])
  })

  it('lets one of concurrent spends of one assertion through', async () => {
    const connectionId = randomUUID()
    const spent = await Promise.all(
      Array.from({ length: 10 }, () =>
        samlAssertions.spendAssertion(db(), { connectionId, assertionId: '_race', expiresAt, now }),
      ),
    )
    expect(spent.filter(Boolean)).toHaveLength(1)
  })

  it('forgets ids past their expiry, and only those', async () => {
    const connectionId = randomUUID()
    await samlAssertions.spendAssertion(db(), { connectionId, assertionId: '_old', expiresAt, now })
    const later = new Date(expiresAt.getTime() + 1)
    await samlAssertions.spendAssertion(db(), {
      connectionId,
      assertionId: '_new',
      expiresAt: new Date(later.getTime() + 60_000),
      now: later,
    })
    expect((await rows(connectionId)).map((r) => r.assertion_id)).toEqual(['_new'])
  })
})
