import { type Db, usage } from '@orgkit/store'
import type { DecisionObserver } from '../hot/decider.ts'

const DAY_MS = 86_400_000
export const dayOf = (ms: number) => new Date(Math.floor(ms / DAY_MS) * DAY_MS).toISOString().slice(0, 10)
/** The `usage_daily` metric checks are counted under. */
export const CHECKS = 'checks'

/**
 * Checks answered per org and day, added to `usage_daily` in one statement per flush: the check path never
 * writes to the database (it is called on every request of the host product). The meter observes the
 * engine's answers (`Deciders` gives it to the engine decider, which gives it to the engine's observed
 * check): each check about an existing target counts against the org the target lives in, whoever asks;
 * a check that errs, or one the database answered, counts nothing. Counts not yet flushed are lost only
 * if the process dies; a failed flush keeps them for the next one.
 */
export class UsageMeter implements DecisionObserver {
  private readonly counts = new CountsByOrg()
  /** Day number → org id → count since the last flush. */
  private pending = new Map<number, Map<string, number>>()
  /** The day the counts in `counts` were made in. */
  private day: number
  private timer: ReturnType<typeof setInterval> | null = null
  private flushing: Promise<void> = Promise.resolve()

  constructor(
    private readonly db: Db,
    private readonly clock: () => number,
  ) {
    this.day = this.today()
  }

  checked(org: { readonly id: string; readonly slot: number }): void {
    this.counts.add(org)
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
    for (const [orgId, n] of this.counts.take()) this.countOn(this.day, orgId, n)
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

/**
 * Checks per org since the last take, counted by the org's slot: on the hot path an array increment, not a
 * lookup by id (docs/performance.md). A slot names one org within one engine, but an engine that replaces
 * it (a reload) numbers the orgs anew, so each slot keeps the id it counts for, and another org arriving
 * at a counted slot first moves that count aside, by id. Same engine, same org: the very same id string,
 * so the comparison is one pointer's.
 */
class CountsByOrg {
  private counts = new Float64Array(1024)
  /** Filled, never holey: a store far past the end would turn the array into a dictionary. */
  private ids: string[] = new Array<string>(1024).fill('')
  private touched: number[] = []
  private aside = new Map<string, number>()

  add(org: { readonly id: string; readonly slot: number }): void {
    const slot = org.slot
    if (slot >= this.counts.length) this.grow(slot)
    const n = this.counts[slot]!
    if (n !== 0 && this.ids[slot] === org.id) this.counts[slot] = n + 1
    else this.first(slot, org.id)
  }

  /** The first count at `slot` since the last take, or the first of another org there. */
  private first(slot: number, id: string): void {
    const n = this.counts[slot]!
    if (n === 0) this.touched.push(slot)
    else {
      const before = this.ids[slot]!
      this.aside.set(before, (this.aside.get(before) ?? 0) + n)
    }
    this.ids[slot] = id
    this.counts[slot] = 1
  }

  private grow(slot: number): void {
    const length = Math.max(slot + 1, this.counts.length * 2)
    const grown = new Float64Array(length)
    grown.set(this.counts)
    this.ids = this.ids.concat(new Array<string>(length - this.counts.length).fill(''))
    this.counts = grown
  }

  /** The counts by org id, then zero. */
  take(): Map<string, number> {
    const out = this.aside
    this.aside = new Map()
    for (const slot of this.touched) {
      const id = this.ids[slot]!
      out.set(id, (out.get(id) ?? 0) + this.counts[slot]!)
      this.counts[slot] = 0
    }
    this.touched = []
    return out
  }
}
