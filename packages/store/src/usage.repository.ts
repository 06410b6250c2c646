import { sql } from 'kysely'
import type { Executor } from './database.ts'

/**
 * Usage counters per org, metric and day (`usage_daily`, migration 0007): what the server's usage meter
 * flushes, and what an org's usage page reads. Days are UTC calendar days, `YYYY-MM-DD`.
 */
export interface DailyCount {
  orgId: string
  day: string
  metric: string
  count: number
}

/**
 * Adds each count to its (org, metric, day) row, creating the row if needed, in one statement. Counts for
 * orgs deleted since they were counted are skipped: their rows would break the foreign key and fail the
 * whole batch.
 */
export async function addDailyCounts(db: Executor, counts: readonly DailyCount[]): Promise<void> {
  if (counts.length === 0) return
  const rows = counts.map(({ orgId, day, metric, count }) => ({ org_id: orgId, day, metric, count }))
  await sql`
    insert into usage_daily (org_id, day, metric, count)
    select v.org_id, v.day, v.metric, v.count
    from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as v(org_id uuid, day date, metric text, count bigint)
    where exists (select 1 from orgs where orgs.id = v.org_id)
    on conflict (org_id, metric, day) do update set count = usage_daily.count + excluded.count
  `.execute(db)
}

/** The org's counts of `metric` from `fromDay` on, by day (days without a row are absent). */
export async function dailyCounts(
  db: Executor,
  orgId: string,
  metric: string,
  fromDay: string,
): Promise<Map<string, number>> {
  const rows = await db
    .selectFrom('usage_daily')
    .select([sql<string>`to_char(day, 'YYYY-MM-DD')`.as('day'), 'count'])
    .where('org_id', '=', orgId)
    .where('metric', '=', metric)
    .where('day', '>=', fromDay)
    .execute()
  return new Map(rows.map((r) => [r.day, Number(r.count)]))
}
