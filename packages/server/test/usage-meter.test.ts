import type { Db } from '@orgkit/store'
import { describe, expect, it } from 'vitest'
import { UsageMeter } from '../src/billing/usage-meter.ts'

/**
 * The meter counts by an org's slot, which is only one org's within one engine: a reload numbers the orgs
 * anew. Guards counting a slot's checks against whichever org holds the slot when the counts are taken.
 */
describe('usage meter counts by org, whatever the slots', () => {
  it('keeps apart two orgs one slot stood for, and adds up one org under two slots', () => {
    const now = Date.UTC(2026, 9, 15, 12)
    const meter = new UsageMeter({} as Db, () => now) // never flushed here: no database
    const before = { id: 'org-a', slot: 3 }
    meter.checked(before)
    meter.checked(before)
    meter.checked({ id: 'org-b', slot: 3 }) // after a reload, another org at slot 3
    meter.checked({ id: 'org-a', slot: 7 }) // and org-a renumbered
    meter.checked({ id: 'org-c', slot: 50_000 }) // past the arrays' first size
    const day = '2026-10-15'
    expect(meter.unflushed('org-a')).toEqual(new Map([[day, 3]]))
    expect(meter.unflushed('org-b')).toEqual(new Map([[day, 1]]))
    expect(meter.unflushed('org-c')).toEqual(new Map([[day, 1]]))
    meter.checked({ id: 'org-b', slot: 3 })
    expect(meter.unflushed('org-b')).toEqual(new Map([[day, 2]]))
    expect(meter.unflushed('org-a')).toEqual(new Map([[day, 3]]))
  })
})
