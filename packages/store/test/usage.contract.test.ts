import { randomUUID } from 'node:crypto'
import { sql } from 'kysely'
import { describe, expect, it } from 'vitest'
import { usage } from '../src/index.ts'
import { TARGETS, useStore } from './support/targets.ts'

describe.each(TARGETS)('usage repository (%s)', (kind) => {
  const handle = useStore(kind)
  const db = () => handle.store.db
  /** A bare org row: this suite tests the counters, not how orgs are made. */
  const insertOrgRow = async () => {
    const id = randomUUID()
    await sql`insert into orgs (id, name) values (${id}::uuid, ${`Org ${id.slice(0, 8)}`})`.execute(db())
    return id
  }

  const rowsOf = async (orgId: string) =>
    (
      await db()
        .selectFrom('usage_daily')
        .select(['day', 'metric', 'count'])
        .where('org_id', '=', orgId)
        .orderBy('metric')
        .orderBy('day')
        .execute()
    ).map((r) => [new Date(r.day).toISOString().slice(0, 10), r.metric, Number(r.count)])

  it('adds counts to their (org, metric, day) row: a new row, then added to, never overwritten', async () => {
    const orgId = await insertOrgRow()
    await usage.addDailyCounts(db(), [
      { orgId, day: '2026-10-15', metric: 'checks', count: 3 },
      { orgId, day: '2026-10-16', metric: 'checks', count: 2 },
    ])
    await usage.addDailyCounts(db(), [
      { orgId, day: '2026-10-16', metric: 'checks', count: 5 },
      { orgId, day: '2026-10-16', metric: 'other', count: 1 },
    ])
    expect(await rowsOf(orgId)).toEqual([
      ['2026-10-15', 'checks', 3],
      ['2026-10-16', 'checks', 7],
      ['2026-10-16', 'other', 1],
    ])
  })

  it("skips the counts of an org that no longer exists, and keeps the batch's others", async () => {
    const orgId = await insertOrgRow()
    const gone = randomUUID()
    await usage.addDailyCounts(db(), [
      { orgId: gone, day: '2026-10-15', metric: 'checks', count: 4 },
      { orgId, day: '2026-10-15', metric: 'checks', count: 1 },
    ])
    expect(await rowsOf(orgId)).toEqual([['2026-10-15', 'checks', 1]])
    expect(await rowsOf(gone)).toEqual([])
  })

  it('adds nothing for an empty batch', async () => {
    const before = await db().selectFrom('usage_daily').select('org_id').execute()
    await usage.addDailyCounts(db(), [])
    expect(await db().selectFrom('usage_daily').select('org_id').execute()).toEqual(before)
  })

  it("reads one org's counts of one metric from a day on, by day", async () => {
    const orgId = await insertOrgRow()
    const other = await insertOrgRow()
    await usage.addDailyCounts(db(), [
      { orgId, day: '2026-10-13', metric: 'checks', count: 9 },
      { orgId, day: '2026-10-14', metric: 'checks', count: 2 },
      { orgId, day: '2026-10-15', metric: 'checks', count: 3 },
      { orgId, day: '2026-10-15', metric: 'other', count: 8 },
      { orgId: other, day: '2026-10-15', metric: 'checks', count: 7 },
    ])
    expect(await usage.dailyCounts(db(), orgId, 'checks', '2026-10-14')).toEqual(
      new Map([
        ['2026-10-14', 2],
        ['2026-10-15', 3],
      ]),
    )
    expect(await usage.dailyCounts(db(), orgId, 'checks', '2026-10-16')).toEqual(new Map())
  })
})
