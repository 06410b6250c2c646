import type { OrgTable } from '@orgkit/core'
import type { Db } from '@orgkit/store'
import { describe, expect, it } from 'vitest'
import { UsageMeter } from '../src/billing/usage-meter.ts'

/**
 * The meter counts by an org's slot in the engine's table of orgs, which is only that engine's numbering:
 * a reload numbers the orgs anew. Guards naming a slot's count through the table it was counted under.
 */
describe('usage meter counts by org, whatever the slots', () => {
  const table = (orgs: Record<number, string>): OrgTable => {
    const out: ({ id: string } | null)[] = []
    for (const [slot, id] of Object.entries(orgs)) out[Number(slot)] = { id }
    return out
  }

  it('names counts through the table they were made under, across a reload, and drops a deleted org', () => {
    const now = Date.UTC(2026, 9, 15, 12)
    const meter = new UsageMeter({} as Db, () => now) // never flushed here: no database
    const first = table({ 3: 'org-a', 5: 'org-gone', 50000: 'org-c' })
    meter.checked(3, first)
    meter.checked(3, first)
    meter.checked(50_000, first) // past the counters' first size
    meter.checked(5, first)
    ;(first as ({ id: string } | null)[])[5] = null // deleted before its counts were taken
    const reloaded = table({ 3: 'org-b', 7: 'org-a' }) // another engine: org-b at slot 3, org-a at 7
    meter.checked(3, reloaded)
    meter.checked(7, reloaded)
    const day = '2026-10-15'
    expect(meter.unflushed('org-a')).toEqual(new Map([[day, 3]]))
    expect(meter.unflushed('org-b')).toEqual(new Map([[day, 1]]))
    expect(meter.unflushed('org-c')).toEqual(new Map([[day, 1]]))
    expect(meter.unflushed('org-gone')).toEqual(new Map())
    meter.checked(3, reloaded)
    expect(meter.unflushed('org-b')).toEqual(new Map([[day, 2]]))
    expect(meter.unflushed('org-a')).toEqual(new Map([[day, 3]]))
  })
})
