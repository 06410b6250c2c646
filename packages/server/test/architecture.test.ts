import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { describe, expect, it } from 'vitest'

/**
 * The server is HTTP and use cases only: every query lives in packages/store (issue 18). These checks read
 * the source, so a query written inline anywhere under src fails here, whatever the tests above it cover.
 */
const SRC = join(import.meta.dirname, '../src')

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return sources(path)
    return /\.tsx?$/.test(entry.name) ? [path] : []
  })
}

/** What gives a query away: an import of Kysely, or a query builder's entry point. */
const QUERY_MARKS: readonly [string, RegExp][] = [
  ['imports kysely', /from\s+['"]kysely['"]|import\(\s*['"]kysely['"]\s*\)/],
  [
    'builds a query',
    /\.(selectFrom|insertInto|updateTable|deleteFrom|replaceInto|mergeInto|withRecursive)\(/,
  ],
  ['runs raw SQL', /\bsql`/],
]

export function queryMarks(text: string): string[] {
  return QUERY_MARKS.filter(([, pattern]) => pattern.test(text)).map(([what]) => what)
}

describe('packages/server/src', () => {
  it('holds no query: no kysely import, no query builder, no raw SQL', () => {
    const offenders = sources(SRC).flatMap((file) =>
      queryMarks(readFileSync(file, 'utf8')).map((what) => `${relative(SRC, file)} ${what}`),
    )
    expect(offenders).toEqual([])
  })

  it('would notice one (the check itself)', () => {
    expect(queryMarks("import { sql } from 'kysely'")).toEqual(['imports kysely'])
    expect(queryMarks("import type { Kysely } from 'kysely'")).toEqual(['imports kysely'])
    expect(queryMarks("await work.tx.selectFrom('orgs').selectAll().execute()")).toEqual(['builds a query'])
    expect(queryMarks('await tx\n  .deleteFrom("users")')).toEqual(['builds a query'])
    expect(queryMarks('await sql`select 1`.execute(db)')).toEqual(['runs raw SQL'])
    expect(queryMarks('const rows = await users.listUsersByIds(ctx.db, ids)')).toEqual([])
  })
})
