import type { Id } from './data.ts'

/**
 * Checks answered per org since they were last taken, by the org's slot in the dense index (dense.ts):
 * usage metering on the hot path is an array increment, not a second lookup of the target by its id
 * (docs/performance.md). Only the slots counted since the last take are visited when taking.
 */
export class AnsweredCounts {
  private counts = new Float64Array(1024)
  private touched: number[] = []

  add(slot: number): void {
    if (slot >= this.counts.length) {
      const grown = new Float64Array(Math.max(slot + 1, this.counts.length * 2))
      grown.set(this.counts)
      this.counts = grown
    }
    const n = this.counts[slot]!
    this.counts[slot] = n + 1
    if (n === 0) this.touched.push(slot)
  }

  /** The counts by org id, then zero. A slot whose org is gone (`idOf` null) is dropped. */
  take(idOf: (slot: number) => Id | null): Map<Id, number> {
    const out = new Map<Id, number>()
    for (const slot of this.touched) {
      const id = idOf(slot)
      if (id !== null) out.set(id, this.counts[slot]!)
      this.counts[slot] = 0
    }
    this.touched = []
    return out
  }
}
