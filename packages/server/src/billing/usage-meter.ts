import type { Db } from '@orgkit/store'
import { sql } from 'kysely'

const DAY_MS = 86_400_000
export const dayOf = (ms: number) => new Date(Math.floor(ms / DAY_MS) * DAY_MS).toISOString().slice(0, 10)

/**
 * Checks answered per org and day, added to `usage_daily` in one statement per flush: the check path never
 * writes to the database (it is called on every request of the host product). The engine counts each
 * metered check by org (`Authorizer.check(…, metered)`); this takes those counts and books them to a day.
 * Counts not yet flushed are lost only if the process dies; a failed flush keeps them for the next one.
 */
export class UsageMeter {
  /** Day number → org id → count since the last flush. */
  private pending = new Map<number, Map<string, number>>()
  /** The day the engine's counts not yet taken were made in. */
  private day: number
  private timer: ReturnType<typeof setInterval> | null = null
  private flushing: Promise<void> = Promise.resolve()

  /** @param answered takes the engine's counts since the last call, by org id (`EngineReplica.takeAnswered`) */
  constructor(
    private readonly db: Db,
    private readonly clock: () => number,
    private readonly answered: () => ReadonlyMap<string, number>,
  ) {
    this.day = this.today()
  }

  /**
   * Call before metered checks: once the day has turned, what the engine counted so far is booked to the
   * day before, so every check lands on the day it was answered (one clock read per request, not per check).
   */
  beforeCounting(): void {
    const today = this.today()
    if (today !== this.day) {
      this.book()
      this.day = today
    }
  }

  private today(): number {
    return Math.floor(this.clock() / DAY_MS)
  }

  /** Every count so far in `pending`, on the day it was made in. */
  private collect(): void {
    this.beforeCounting()
    this.book()
  }

  /** Moves the engine's counts to `pending`, on `day`. */
  private book(): void {
    for (const [orgId, n] of this.answered()) this.countOn(this.day, orgId, n)
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
    this.collect()
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
    this.collect()
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
