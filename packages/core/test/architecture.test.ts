import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'

/**
 * The shape of packages/core, held to what docs/architecture.md and STYLE.md say of it: its modules form
 * a DAG (the engine reads top-down: data → structures → evaluation → graph mutation → authorizer; it once
 * had the circle access → graph → dense → evaluate → access), and it stays pure domain: no database, no
 * HTTP, no file system. Every import counts, `import type` included: a type-only circle still ties the
 * files together for whoever reads or moves them.
 */

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../src')

/** Imports that core must not make: a database, an HTTP framework, the file system. */
function isForbidden(specifier: string): boolean {
  const parts = specifier.split('/')
  const name = specifier.startsWith('@') ? `${parts[0]}/${parts[1]}` : (parts[0] ?? '')
  return (
    ['pg', 'kysely', 'hono', 'fs', 'node:fs'].includes(name) ||
    name.startsWith('@hono/') ||
    name.startsWith('@kysely/')
  )
}

/** Every file's imports (specifiers as written), for the `.ts` files under `root`. */
function importsUnder(root: string): Map<string, string[]> {
  const out = new Map<string, string[]>()
  for (const entry of readdirSync(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue
    const file = join(entry.parentPath, entry.name)
    const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true)
    out.set(
      file,
      info.importedFiles.map((f) => f.fileName),
    )
  }
  return out
}

/** The file a relative specifier names (`.ts` written out, as the project does, or left off). */
function resolveRelative(from: string, specifier: string): string | null {
  const base = resolve(dirname(from), specifier)
  for (const candidate of [base, `${base}.ts`, join(base, 'index.ts')])
    if (existsSync(candidate) && candidate.endsWith('.ts')) return candidate
  return null
}

/** Every circle of the graph, each once as a path that ends where it starts (a DFS's back edges). */
function findCycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const cycles: string[][] = []
  const state = new Map<string, 'open' | 'done'>()
  const path: string[] = []
  const visit = (node: string) => {
    state.set(node, 'open')
    path.push(node)
    for (const next of graph.get(node) ?? []) {
      const s = state.get(next)
      if (s === 'open') cycles.push([...path.slice(path.indexOf(next)), next])
      else if (s === undefined) visit(next)
    }
    path.pop()
    state.set(node, 'done')
  }
  for (const node of [...graph.keys()].sort()) if (!state.has(node)) visit(node)
  return cycles
}

describe('architecture of packages/core', () => {
  const imports = importsUnder(SRC)
  const name = (file: string) => relative(SRC, file)

  it('reads every source file', () => {
    expect(imports.size).toBeGreaterThan(10)
    expect([...imports.keys()].map(name)).toContain('engine/authorizer.ts')
  })

  it('has no circle of relative imports', () => {
    const graph = new Map<string, string[]>()
    const unresolved: string[] = []
    for (const [file, specifiers] of imports) {
      const targets: string[] = []
      for (const specifier of specifiers) {
        if (!specifier.startsWith('.')) continue
        const target = resolveRelative(file, specifier)
        if (target === null) unresolved.push(`${name(file)}: ${specifier}`)
        else targets.push(target)
      }
      graph.set(file, targets)
    }
    expect(unresolved).toEqual([])
    expect(findCycles(graph).map((cycle) => cycle.map(name).join(' → '))).toEqual([])
  })

  // `files/` is the separate entry `@orgkit/core/files` that reads model files from disk; nothing else in
  // core imports it, so the main entry stays free of the file system.
  const isFilesEntry = (file: string) => name(file).startsWith('files/')

  it('imports no database, HTTP framework or file system', () => {
    const found = [...imports]
      .filter(([file]) => !isFilesEntry(file))
      .flatMap(([file, specifiers]) =>
        specifiers.filter(isForbidden).map((specifier) => `${name(file)}: ${specifier}`),
      )
    expect(found).toEqual([])
  })

  it('keeps the file-reading entry out of the domain: nothing imports files/', () => {
    const found = [...imports]
      .filter(([file]) => !isFilesEntry(file))
      .flatMap(([file, specifiers]) =>
        specifiers
          .filter((s) => {
            const target = s.startsWith('.') ? resolveRelative(file, s) : null
            return target !== null && isFilesEntry(target)
          })
          .map((s) => `${name(file)}: ${s}`),
      )
    expect(found).toEqual([])
  })

  // The two checks above can fail: their parts, on inputs that must fail them.
  it('finds a circle, a self-import and none in a DAG', () => {
    const circle = new Map([
      ['access', ['graph']],
      ['graph', ['dense']],
      ['dense', ['evaluate']],
      ['evaluate', ['access', 'data']],
      ['data', []],
    ])
    expect(findCycles(circle)).toEqual([['access', 'graph', 'dense', 'evaluate', 'access']])
    expect(findCycles(new Map([['a', ['a']]]))).toEqual([['a', 'a']])
    const dag = new Map([
      ['authorizer', ['graph', 'evaluate']],
      ['graph', ['dense']],
      ['evaluate', ['dense']],
      ['dense', []],
    ])
    expect(findCycles(dag)).toEqual([])
  })

  it('tells forbidden imports from allowed ones', () => {
    for (const s of ['pg', 'pg/lib/client', 'kysely', 'hono', 'hono/cors', '@hono/node-server', 'node:fs'])
      expect(isForbidden(s), s).toBe(true)
    for (const s of ['fs/promises', 'node:fs/promises']) expect(isForbidden(s), s).toBe(true)
    for (const s of ['zod', 'node:crypto', './graph.ts', 'pgsql-ast', 'kysely-like', 'honorific'])
      expect(isForbidden(s), s).toBe(false)
  })
})
