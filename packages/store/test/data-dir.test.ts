import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { sql } from 'kysely'
import { afterAll, describe, expect, it } from 'vitest'
import { LOCK_FILE, LOCK_STALE_MS } from '../src/data-folder-lock.ts'
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
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()
    const head = (text: string) => text.split('\n').slice(0, 3).join('\n')
    const first = await openStore({ dataDir, templateDir: TEMPLATE_DIR || undefined })
    await migrate(first.db)
    await sql`insert into users (id, email, name) values (gen_random_uuid(), 'first@example.com', 'F')`.execute(
      first.db,
    )
    expect(head(readFileSync(lock, 'utf8'))).toBe(`${process.pid}\n${hostname()}\n${boot}`)
    // In this process too: PGlite's files would be open twice.
    await expect(openStore({ dataDir })).rejects.toThrow(
      `the data folder ${dataDir} is in use by this process: stop that Orgkit first, or give this one another ORGKIT_DATA_DIR`,
    )
    await first.close()
    expect(existsSync(lock)).toBe(false)

    // Held by another live process: refused, naming it, however long since it touched the lock (a start
    // busy for seconds), and the folder left as it was.
    const other = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' })
    try {
      writeFileSync(lock, `${other.pid}\n${hostname()}\n${boot}\nnonce\n`)
      const longAgo = new Date(Date.now() - 60_000)
      utimesSync(lock, longAgo, longAgo)
      await expect(openStore({ dataDir })).rejects.toMatchObject({
        code: 'DATA_FOLDER_IN_USE',
        message: expect.stringContaining(`in use by process ${other.pid}:`),
      })
      expect(readFileSync(lock, 'utf8')).toBe(`${other.pid}\n${hostname()}\n${boot}\nnonce\n`)
    } finally {
      other.kill('SIGKILL')
      await once(other, 'exit')
    }
    // The same lock, its process gone (a crash): taken over, and the folder opens with what it held.
    const reopened = await openStore({ dataDir })
    try {
      expect(head(readFileSync(lock, 'utf8'))).toBe(`${process.pid}\n${hostname()}\n${boot}`)
      const { rows } = await sql<{ email: string }>`select email from users`.execute(reopened.db)
      expect(rows.map((r) => r.email)).toEqual(['first@example.com'])
    } finally {
      await reopened.close()
    }
    // This pid, not held here: a former process's (a container restarted as pid 1). Taken over.
    writeFileSync(lock, `${process.pid}\n${hostname()}\n${boot}\nformer\n`)
    await (await openStore({ dataDir })).close()
    // Another machine's (or boot's) lock can't be checked by its pid: refused while its holder touches it,
    // free once no one has for 10 s (a recreated container, a shared disk).
    writeFileSync(lock, '12345\nelsewhere.example\nanother-boot\nnonce\n')
    await expect(openStore({ dataDir })).rejects.toThrow(
      'in use by process 12345 on elsewhere.example: stop that Orgkit first, or give this one another ORGKIT_DATA_DIR (a lock from another machine or boot is free once no one has touched it for 10 s)',
    )
    const stale = new Date(Date.now() - LOCK_STALE_MS - 1000)
    utimesSync(lock, stale, stale)
    await (await openStore({ dataDir })).close()
    expect(readdirSync(dataDir).filter((f) => f.startsWith(LOCK_FILE))).toEqual([])
  })

  // Two starts finding one free lock at once both took it: each removed the lock, the later one the other's
  // fresh one (found in review). Moved aside under a name of its own, it goes to one of them alone.
  it('gives a free lock to one of two processes taking it at once', async () => {
    const root = await mkdtemp(join(tmpdir(), 'orgkit-data-lock-race-'))
    roots.push(root)
    const source = fileURLToPath(new URL('../src/data-folder-lock.ts', import.meta.url))
    const race = (folder: string, at: number) =>
      new Promise<string>((resolve) => {
        const child = spawn(
          process.execPath,
          [
            '--import',
            'tsx',
            '--input-type=module',
            '-e',
            `const { lockDataFolder } = await import(${JSON.stringify(source)});
             while (Date.now() < ${at});
             try { lockDataFolder(${JSON.stringify(folder)}); console.log('took'); setTimeout(() => {}, 300) }
             catch (e) { console.log(e.code ?? e.message) }`,
          ],
          { stdio: ['ignore', 'pipe', 'inherit'] },
        )
        let out = ''
        child.stdout!.on('data', (chunk) => (out += chunk))
        child.on('exit', () => resolve(out.trim()))
      })
    // A lock left by a process of this machine that crashed: free, its pid running no more.
    const gone = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' })
    await once(gone, 'exit')
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()
    for (let round = 0; round < 5; round++) {
      const folder = join(root, `r${round}`)
      mkdirSync(folder)
      writeFileSync(join(folder, LOCK_FILE), `${gone.pid}\n${hostname()}\n${boot}\nnonce\n`)
      const at = Date.now() + 1500
      const outcomes = await Promise.all([race(folder, at), race(folder, at)])
      expect(outcomes.sort()).toEqual(['DATA_FOLDER_IN_USE', 'took'])
    }
  }, 60_000)

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
