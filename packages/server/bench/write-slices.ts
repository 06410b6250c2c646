import { writeFileSync } from 'node:fs'
import { Server, type ServerResponse } from 'node:http'
import { Socket } from 'node:net'

/**
 * Where a write's time goes on the server, slice by slice (`WRITE_BENCH_SLICES=1`, write-latency.bench.ts):
 * the server's process records when each request arrived, each write to a database socket, the first
 * bytes back from it and when the response was finished; the bench cuts a one-at-a-time write into the
 * time before its first statement, each round trip, the JavaScript between them and the time after the
 * last answer. Node's own sockets are wrapped, so no line of Orgkit changes to be measured; the clock is
 * the monotonic one `process.hrtime` reads (microseconds), the bench's phase windows' clock.
 */
type Kind = 'request' | 'sent' | 'answered' | 'finished'
type Event = [Kind, number]

const now = () => Number(process.hrtime.bigint() / 1000n)

/**
 * In the server's process, before the server is loaded: records the events of sockets connected to
 * `databasePort` and of every HTTP request. A socket's answer counts once per write (a notification on
 * the listening connection, which wrote nothing, is none). `flush` writes them to `file`.
 */
export function recordSlices(file: string, databasePort: number): { flush(): void } {
  const events: Event[] = []
  const waiting = new WeakSet<Socket>()
  const proto = Socket.prototype as unknown as Record<'_write' | '_writev', (...args: unknown[]) => unknown>
  for (const method of ['_write', '_writev'] as const) {
    const original = proto[method]
    proto[method] = function (this: Socket, ...args: unknown[]) {
      if (this.remotePort === databasePort) {
        events.push(['sent', now()])
        waiting.add(this)
      }
      return original.apply(this, args)
    }
  }
  const emit = Socket.prototype.emit as (this: Socket, event: string | symbol, ...args: unknown[]) => boolean
  Socket.prototype.emit = function (this: Socket, event: string | symbol, ...args: unknown[]) {
    if (event === 'data' && waiting.has(this)) {
      waiting.delete(this)
      events.push(['answered', now()])
    }
    return emit.call(this, event, ...args)
  }
  const serverEmit = Server.prototype.emit as (
    this: Server,
    event: string | symbol,
    ...args: unknown[]
  ) => boolean
  Server.prototype.emit = function (this: Server, event: string | symbol, ...args: unknown[]) {
    if (event === 'request') {
      events.push(['request', now()])
      ;(args[1] as ServerResponse).once('finish', () => events.push(['finished', now()]))
    }
    return serverEmit.call(this, event, ...args)
  }
  return { flush: () => writeFileSync(file, JSON.stringify(events)) }
}

export interface Window {
  from: number
  to: number
}

/** A write's slices, µs: before its first statement, then per round trip its wait and the time after it. */
interface Write {
  total: number
  before: number
  trips: number[]
  after: number[]
}

/** The requests that arrived in `windows`, one at a time, cut into slices; unfinished ones are left out. */
function writesIn(events: Event[], windows: readonly Window[]): Write[] {
  const writes: Write[] = []
  let current: { start: number; last: number; sent: number | null; write: Write } | null = null
  for (const [kind, t] of events) {
    if (kind === 'request') {
      current = windows.some((w) => t >= w.from && t <= w.to)
        ? { start: t, last: t, sent: null, write: { total: 0, before: 0, trips: [], after: [] } }
        : null
      continue
    }
    if (current === null) continue
    if (kind === 'sent') {
      // Several writes before an answer (a statement's messages, then its Sync) are one round trip.
      if (current.sent !== null) continue
      if (current.write.trips.length === 0) current.write.before = t - current.start
      else current.write.after.push(t - current.last)
      current.sent = t
    } else if (kind === 'answered') {
      if (current.sent === null) continue
      current.write.trips.push(t - current.sent)
      current.sent = null
      current.last = t
    } else {
      const { write, start, last } = current
      write.total = t - start
      if (write.trips.length === 0) write.before = write.total
      else write.after.push(t - last)
      writes.push(write)
      current = null
    }
  }
  return writes
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? 0
}

/**
 * The lines the bench prints for one kind of write: the commonest number of round trips, and the median of
 * each slice over the writes that made that many (medians: their sum is near the median total, not it).
 */
export function describeSlices(events: Event[], windows: readonly Window[]): string[] {
  const writes = writesIn(events, windows)
  if (writes.length === 0) return ['  no write recorded']
  const byTrips = new Map<number, Write[]>()
  for (const w of writes) {
    const same = byTrips.get(w.trips.length)
    if (same) same.push(w)
    else byTrips.set(w.trips.length, [w])
  }
  const [trips, common] = [...byTrips].sort((a, b) => b[1].length - a[1].length)[0]!
  const us = (n: number) => `${Math.round(n)} µs`
  const total = us(median(common.map((w) => w.total)))
  // The embedded database answers in this process, inside the JavaScript: no round trip to cut at.
  if (trips === 0) return [`  on the server ${total}, no round trip to a database (${common.length} writes)`]
  const parts = [`before the first statement ${us(median(common.map((w) => w.before)))}`]
  for (let k = 0; k < trips; k++) {
    parts.push(`round trip ${k + 1} ${us(median(common.map((w) => w.trips[k]!)))}`)
    parts.push(
      `${k === trips - 1 ? 'after the last answer' : 'then'} ${us(median(common.map((w) => w.after[k]!)))}`,
    )
  }
  return [
    `  ${trips} round trips in ${common.length} of ${writes.length} writes; on the server ${total}, of it:`,
    `    ${parts.join(' | ')}`,
  ]
}
