import type { OrgTable } from '@orgkit/core'
import { type Db, usage } from '@orgkit/store'
import type { DecisionObserver } from '../hot/decider.ts'

const DAY_MS = 86_400_000
export const dayOf = (ms: number) => new Date(Math.floor(ms / DAY_MS) * DAY_MS).toISOString().slice(0, 10)
/** The `usage_daily` metric checks are counted under. */
export const CHECKS = 'checks'

/**
 * Checks per org since the last take, counted by the org's slot in the engine's table of orgs: on the hot
 * path an array increment, not a lookup by id (docs/performance.md). Slots are one engine's numbering, so
 * the counts are named through the table they index when taken, or as soon as a check arrives from an
 * engine that replaced it (a reload); the table is let go of once they are, so an old engine is not kept.
 * An org deleted before its counts are named has a null entry: those counts are dropped with it.
 */
abstract class CheckCounts {
  private counts = new Float64Array(1024)
  private touched: number[] = []
  /** The table the counted slots index (null: nothing counted since the last take). */
  private orgs: OrgTable | null = null
  /** Counts already named (an engine was replaced), not taken yet. */
  private named = new Map<string, number>()

  /** The observer's call (`CheckObserver`), once per check: the meter is its own counter, one object deep. */
  checked(slot: number, orgs: OrgTable): void {
    if (orgs !== this.orgs) this.countIn(orgs)
    if (slot >= this.counts.length) this.grow(slot)
    const n = this.counts[slot]!
    this.counts[slot] = n + 1
    if (n === 0) this.touched.push(slot)
  }

  /** The counts by org id, then zero. */
  protected take(): Map<string, number> {
    this.nameInto(this.named)
    const out = this.named
    this.named = new Map()
    this.orgs = null
    return out
  }

  /** From now on, slots index `orgs`: what was counted under another table is named first. */
  private countIn(orgs: OrgTable): void {
    this.nameInto(this.named)
    this.orgs = orgs
  }

  private nameInto(into: Map<string, number>): void {
    for (const slot of this.touched) {
      const org = this.orgs?.[slot]
      if (org) into.set(org.id, (into.get(org.id) ?? 0) + this.counts[slot]!)
      this.counts[slot] = 0
    }
    this.touched = []
  }

  private grow(slot: number): void {
    const grown = new Float64Array(Math.max(slot + 1, this.counts.length * 2))
    grown.set(this.counts)
    this.counts = grown
  }
}

/**
 * Checks answered per org and day, added to `usage_daily` in one statement per flush: the check path never
 * writes to the database (it is called on every request of the host product). The meter observes the
 * engine's answers (`Deciders` gives it to the engine decider, which gives it to the engine's observed
 * check): each check about an existing target counts against the org the target lives in, whoever asks;
 * a check that errs, or one the database answered, counts nothing. Counts not yet flushed are lost only
 * if the process dies; a failed flush keeps them for the next one.
 */
export class UsageMeter extends CheckCounts implements DecisionObserver {
  /** Day number → org id → count since the last flush. */
  private pending = new Map<number, Map<string, number>>()
  /** The day the counts not yet taken were made in. */
  private day: number
  private timer: ReturnType<typeof setInterval> | null = null
  private flushing: Promise<void> = Promise.resolve()

  constructor(
    private readonly db: Db,
    private readonly clock: () => number,
  ) {
    super()
    this.day = this.today()
  }

  /**
   * Before a request's checks: once the day has turned, what was counted so far is booked to the day
   * before, so every check lands on the day it was answered (one clock read per request, not per check).
   */
  beforeChecks(): void {
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
    this.beforeChecks()
    this.book()
  }

  /** Moves the counts to `pending`, on `day`. */
  private book(): void {
    for (const [orgId, n] of this.take()) this.countOn(this.day, orgId, n)
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
      [...counts].map(([orgId, count]) => ({ orgId, day: dayOf(day * DAY_MS), metric: CHECKS, count })),
    )
    try {
      await usage.addDailyCounts(this.db, rows)
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
