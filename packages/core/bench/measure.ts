/**
 * What the engine bench and its casbin baseline measure with and print with: heap after full
 * collections, percentiles, one timer pair per call, and the report's formatting.
 */
import os from 'node:os'

const collect = globalThis.gc
if (collect === undefined) throw new Error('run with --expose-gc (npm run bench -w @orgkit/core)')

/** Heap used after full collections, with the memory of typed arrays (outside V8's heap) counted in. */
export function heapUsed(): number {
  collect!()
  collect!()
  const { heapUsed, arrayBuffers } = process.memoryUsage()
  return heapUsed + arrayBuffers
}

export const now = () => process.hrtime.bigint()
export const msSince = (start: bigint) => Number(now() - start) / 1e6

export interface Percentiles {
  p50: number
  p90: number
  p99: number
  p999: number
  max: number
  mean: number
}

export function percentiles(samples: Float64Array): Percentiles {
  const sorted = Float64Array.from(samples).sort()
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!
  let sum = 0
  for (const v of sorted) sum += v
  return {
    p50: at(0.5),
    p90: at(0.9),
    p99: at(0.99),
    p999: at(0.999),
    max: sorted[sorted.length - 1]!,
    mean: sum / sorted.length,
  }
}

/** Other processes on the machine skew every number: the 1/5/15-minute load averages. */
export const loadAverage = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')

const MB = 2 ** 20
export const fmtInt = (n: number) => Math.round(n).toLocaleString('en-US')
export const fmtMB = (bytes: number) => `${(bytes / MB).toFixed(1)} MB`
export const fmtNs = (ns: number) =>
  ns >= 1e6 ? `${(ns / 1e6).toFixed(2)} ms` : `${(ns / 1e3).toFixed(2)} µs`
export const fmtPct = (p: Percentiles) =>
  `p50 ${fmtNs(p.p50)}  p90 ${fmtNs(p.p90)}  p99 ${fmtNs(p.p99)}  p99.9 ${fmtNs(p.p999)}  max ${fmtNs(p.max)}`
export const fmtRatio = (r: number) =>
  r >= 10 ? `${r.toFixed(0)}x` : r >= 1 ? `${r.toFixed(1)}x` : r.toFixed(4)

export function section(title: string): void {
  console.log(`\n== ${title} ${'='.repeat(Math.max(0, 90 - title.length))}`)
}
export const line = (label: string, value: string) => console.log(`  ${label.padEnd(34)} ${value}`)

export interface ThroughputResult {
  checks: number
  ms: number
  perSec: number
  allowedRate: number
  /** CPU time the process used meanwhile (user + system, every thread): on a busy machine, wall-clock
   * throughput also counts the time other processes held the core; this one does not (caches still do). */
  cpuMs?: number
  perCpuSec?: number
}

/** One hrtime pair around each call. Returns ns per call, timer included. */
export function timeEach(count: number, body: (i: number) => void): Float64Array {
  const out = new Float64Array(count)
  for (let i = 0; i < count; i++) {
    const t0 = process.hrtime.bigint()
    body(i)
    const t1 = process.hrtime.bigint()
    out[i] = Number(t1 - t0)
  }
  return out
}

export function timerOverhead(count: number): Percentiles {
  const out = new Float64Array(count)
  for (let i = 0; i < count; i++) {
    const t0 = process.hrtime.bigint()
    const t1 = process.hrtime.bigint()
    out[i] = Number(t1 - t0)
  }
  return percentiles(out)
}
