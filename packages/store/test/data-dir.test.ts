import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { sql } from 'kysely'
import { afterAll, describe, expect, it } from 'vitest'
import { LOCK_FILE } from '../src/data-folder-lock.ts'
import { migrate, openStore } from '../src/index.ts'
import { migrations } from '../src/migrations/index.ts'
import { templateKey } from '../src/pglite-template.ts'
import { TEMPLATE_DIR } from './support/targets.ts'
import { embeddedTestDatabase } from './support/test-databases.ts'

/** The embedded database's folder on disk (ORGKIT_DATA_DIR) and the template an empty one starts from. */
describe('the embedded data folder', () => {
  const roots: string[] = []
  afterAll(() => Promise.all(roots.map((root) => rm(root, { recursive: true, force: true }))))

  // Issue 25.7: PGlite makes the folder but not its parents, so `orgkit migrate` (and a primary starting
  // workers) with ORGKIT_DATA_DIR=<new>/data failed with ENOENT.
  it('is created with its missing parents, and a second open finds what the first wrote', async () => {
    const root = await mkdtemp(join(tmpdir(), 'orgkit-data-dir-'))
    roots.push(root)
    const dataDir = join(root, 'not', 'yet', 'there')
    const first = await openStore({ dataDir, templateDir: TEMPLATE_DIR || undefined })
    expect(await migrate(first.db)).toEqual([])
    await sql`insert into users (id, email, name) values (gen_random_uuid(), 'kept@example.com', 'K')`.execute(
      first.db,
    )
    await first.close()
    expect(await readdir(dataDir)).toContain('PG_VERSION')
    // Not empty now: opened as it is, never overwritten by the template.
    const second = await openStore({ dataDir, templateDir: TEMPLATE_DIR || undefined })
    const { rows } = await sql<{ email: string }>`select email from users`.execute(second.db)
    expect(rows.map((r) => r.email)).toEqual(['kept@example.com'])
    await second.close()
  })

  // Two processes on one folder each ran a PostgreSQL of their own over it: both answered writes, neither saw
  // the other's, and the folder kept one's (a second `npm start` on the same ORGKIT_DATA_DIR lost users).
  it('is one process`s at a time: a second open is refused, saying who holds it, until the first closes', async () => {
    const root = await mkdtemp(join(tmpdir(), 'orgkit-data-lock-'))
    roots.push(root)
    const dataDir = join(root, 'data')
    const lock = join(dataDir, LOCK_FILE)
    const first = await openStore({ dataDir, templateDir: TEMPLATE_DIR || undefined })
    await migrate(first.db)
    await sql`insert into users (id, email, name) values (gen_random_uuid(), 'first@example.com', 'F')`.execute(
      first.db,
    )
    expect(readFileSync(lock, 'utf8')).toBe(`${process.pid}\n${hostname()}\n`)
    // In this process too: PGlite's files would be open twice.
    await expect(openStore({ dataDir })).rejects.toThrow(
      `the data folder ${dataDir} is in use by this process: stop that Orgkit first, or give this one another ORGKIT_DATA_DIR`,
    )
    await first.close()
    expect(existsSync(lock)).toBe(false)

    // Held by another live process: refused, naming it, and the folder left as it was.
    const other = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' })
    try {
      writeFileSync(lock, `${other.pid}\n${hostname()}\n`)
      await expect(openStore({ dataDir })).rejects.toMatchObject({
        code: 'DATA_FOLDER_IN_USE',
        message: expect.stringContaining(`in use by process ${other.pid}:`),
      })
      expect(readFileSync(lock, 'utf8')).toBe(`${other.pid}\n${hostname()}\n`)
    } finally {
      other.kill('SIGKILL')
      await once(other, 'exit')
    }
    // The same lock, its process gone (a crash): taken over, and the folder opens with what it held.
    const reopened = await openStore({ dataDir })
    try {
      expect(readFileSync(lock, 'utf8')).toBe(`${process.pid}\n${hostname()}\n`)
      const { rows } = await sql<{ email: string }>`select email from users`.execute(reopened.db)
      expect(rows.map((r) => r.email)).toEqual(['first@example.com'])
    } finally {
      await reopened.close()
    }
    // Another machine's lock (a folder on a shared disk) can't be checked: refused, saying how to clear it.
    writeFileSync(lock, '12345\nelsewhere.example\n')
    await expect(openStore({ dataDir })).rejects.toThrow(
      `in use by process 12345 on elsewhere.example: stop that Orgkit first, or give this one another ORGKIT_DATA_DIR (if nothing has it open, delete ${lock})`,
    )
  })

  it('keeps PostgreSQL`s buffer pool small: it is resident memory inside the WebAssembly heap', async () => {
    // On a copy of the tests' migrated folder, as every test database: no dump unpacked into the heap.
    const embedded = embeddedTestDatabase()
    const store = await openStore({ dataDir: embedded.dataDir })
    try {
      const { rows } = await sql<{ shared_buffers: string }>`show shared_buffers`.execute(store.db)
      expect(rows[0]?.shared_buffers).toBe('16MB')
    } finally {
      await store.close()
      embedded.remove()
    }
  })

  it('names a template by its migrations: a changed or added one makes another', () => {
    const key = templateKey(migrations)
    expect(templateKey({ ...migrations })).toBe(key)
    const first = Object.keys(migrations)[0]!
    const edited = { ...migrations, [first]: { up: async () => {} } }
    expect(templateKey(edited)).not.toBe(key)
    expect(templateKey({ ...migrations, '9999-later': { up: async () => {} } })).not.toBe(key)
  })
})
