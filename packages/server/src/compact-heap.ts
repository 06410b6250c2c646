import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

/**
 * One full garbage collection that compacts the whole old generation, for when an instance has loaded
 * its engine: loading leaves the engine's nodes spread thin over pages that also held the rows they were
 * read from, and V8 keeps a page while anything on it lives. Every young-generation collection (scavenge)
 * walks every old-generation page, so their number sets each scavenge's pause: at 1M bindings 3.3 ms over
 * 638 MB of pages before, 2.0 ms over 367 MB after (docs/performance.md). It blocks for as long as a
 * full collection takes (~2 s at 1M bindings), so after a load from rows it runs before the instance listens,
 * never under load.
 *
 * V8 has no API for a compacting collection; the flags set here are V8's own (`--expose-gc` to reach
 * `gc`, `--compact-on-every-full-gc` for this one collection) and are unset again before returning.
 * Returns the heap's size before and after, in bytes.
 *
 * `compact: false`, after a restore from the stored state (issue 25.4): a restore leaves few dead objects on
 * V8's pages (compacting gave back 9 MB of 225 at 1M bindings) but ~270 MB of dead buffers outside them — the
 * bytes read, decompressed and copied — that only a full collection frees (without one an instance idled at
 * ~600 MB resident instead of ~480). Not moving anything, it took 0.16-0.24 s of CPU where compacting took
 * 0.7-0.95 s (load ~7). It runs just after the instance listens, once the engine's tables have copied what they
 * kept of those buffers into memory of their own (server.ts, `ownMemoryInTurns`): a pause of ~0.2 s.
 */
export function compactHeap({ compact = true } = {}): { before: number; after: number } {
  const before = process.memoryUsage().heapTotal
  setFlagsFromString('--expose-gc')
  const gc = runInNewContext('gc') as () => void
  setFlagsFromString('--no-expose-gc')
  if (compact) setFlagsFromString('--compact-on-every-full-gc')
  try {
    gc()
  } finally {
    if (compact) setFlagsFromString('--no-compact-on-every-full-gc')
  }
  return { before, after: process.memoryUsage().heapTotal }
}
