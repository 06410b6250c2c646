import type { Db } from '@orgkit/store'
import { sql } from 'kysely'

const DAY_MS = 86_400_000
export const dayOf = (ms: number) => new Date(Math.floor(ms / DAY_MS) * DAY_MS).toISOString().slice(0, 10)

/**
 * Counts checks answered per org and day in memory and adds them to `usage_daily` in one statement per
 * flush: the check path never writes to the database (it is called on every request of the host product).
 * Counts not yet flushed are lost only if the process dies; a failed flush keeps them for the next one.
 */
export class UsageMeter {
  /** Day number → org id → count since the last flush. Keyed by the id itself: no string built per check. */
  private pending = new Map<number, Map<string, number>>()
  private timer: ReturnType<typeof setInterval> | null = null
  private flushing: Promise<void> = Promise.resolve()

  constructor(
    private readonly db: Db,
    private readonly clock: () => number,
  ) {}

  /** One check answered in this org. A map increment: cheap enough for the hot path. */
  count(orgId: string, n = 1): void {
    this.countOn(Math.floor(this.clock() / DAY_MS), orgId, n)
  }

  private countOn(day: number, orgId: string, n: number): void {
    let counts = this.pending.get(day)
    if (counts === undefined) {
      counts = new Map()
      this.pending.set(day, counts)
    }
    counts.set(orgId, (counts.get(orgId) ?? 0) + n)
  }

  /** Not yet flushed, for an org: day → count (so this instance's own reads are current). */
  unflushed(orgId: string): Map<string, number> {
    const out = new Map<string, number>()
    for (const [day, counts] of this.pending) {
      const n = counts.get(orgId)
      if (n !== undefined) out.set(dayOf(day * DAY_MS), n)
    }
    return out
  }

  /** Writes every pending count in one upsert. Flushes run one at a time. */
  flush(): Promise<void> {
    this.flushing = this.flushing.catch(() => undefined).then(() => this.flushNow())
    return this.flushing
  }

  private async flushNow(): Promise<void> {
    if (this.pending.size === 0) return
    const batch = this.pending
    this.pending = new Map()
    const rows = [...batch].flatMap(([day, counts]) =>
      [...counts].map(([orgId, n]) => ({
        org_id: orgId,
        day: dayOf(day * DAY_MS),
        metric: 'checks',
        count: n,
      })),
    )
    try {
      // Orgs deleted since their checks were counted are skipped (their rows would break the foreign key).
      await sql`
        insert into usage_daily (org_id, day, metric, count)
        select v.org_id, v.day, v.metric, v.count
        from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as v(org_id uuid, day date, metric text, count bigint)
        where exists (select 1 from orgs where orgs.id = v.org_id)
        on conflict (org_id, metric, day) do update set count = usage_daily.count + excluded.count
      `.execute(this.db)
    } catch (error) {
      for (const [day, counts] of batch) for (const [orgId, n] of counts) this.countOn(day, orgId, n)
      throw error
    }
  }

  start(intervalMs: number, onError: (error: unknown) => void): void {
    this.timer = setInterval(() => void this.flush().catch(onError), intervalMs)
    this.timer.unref()
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
    await this.flush().catch(() => undefined)
  }
}
