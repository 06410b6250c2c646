import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { describe, expect, it } from 'vitest'

/**
 * What a server holds is the server's (issue 18.4): time comes from the injected clock (`ctx.clock`,
 * `options.clock`), so tests can move it and every part of one server agrees on it; caches and other
 * mutable state live on the context (caches.ts), so two servers in one process share none. These checks
 * read the source under src, so a new `Date.now()` or module-level cache fails here whatever else runs.
 */
const SRC = join(import.meta.dirname, '../src')

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return sources(path)
    return /\.tsx?$/.test(entry.name) ? [path] : []
  })
}

/** A read of the wall clock: `Date.now()`, or a `new Date()` of now. */
const WALL_CLOCK = /\bDate\.now\(\)|\bnew Date\(\)/
/** Mutable state at a module's top level: a `let`/`var`, or a Map or WeakMap (what caches are made of). */
const MODULE_STATE = /^(export )?(let|var) |^(export )?const \w+(: [^=]+)? = new (Weak)?Map\b/

/**
 * Wall-clock reads kept on purpose, each with its reason; the list may only shrink.
 * - The webhook signature's timestamp: receivers check it against their own clocks (Standard Webhooks).
 */
const KEPT = ['webhooks/worker.ts: const timestamp = new Date()']

function lines(pattern: RegExp): string[] {
  return sources(SRC).flatMap((file) =>
    readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => pattern.test(line) && !line.trim().startsWith('//') && !line.trim().startsWith('*'))
      .map((line) => `${relative(SRC, file)}: ${line.trim()}`),
  )
}

describe('packages/server/src', () => {
  it('reads the time only through the injected clock (but for the reads kept on purpose)', () => {
    expect(lines(WALL_CLOCK).sort()).toEqual([...KEPT].sort())
  })

  it('keeps no cache or other mutable state at module level', () => {
    expect(lines(MODULE_STATE)).toEqual([])
  })

  it('would notice either (the checks themselves)', () => {
    expect(WALL_CLOCK.test('const expires = Date.now() + ttl')).toBe(true)
    expect(WALL_CLOCK.test('const at = new Date()')).toBe(true)
    expect(WALL_CLOCK.test('const at = new Date(ctx.clock())')).toBe(false)
    expect(WALL_CLOCK.test('const clock = options.clock ?? Date.now')).toBe(false)
    expect(MODULE_STATE.test('const known = new WeakMap<Ctx, Map<string, string>>()')).toBe(true)
    expect(MODULE_STATE.test('let dummy: Promise<string> | null = null')).toBe(true)
    expect(MODULE_STATE.test('  const cache = new Map()')).toBe(false)
    expect(MODULE_STATE.test("const SAFE_METHODS = new Set(['GET', 'HEAD'])")).toBe(false)
  })
})
