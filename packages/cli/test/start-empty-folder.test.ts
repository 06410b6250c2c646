import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { TEMPLATE_DIR } from '../../server/test/support/harness.ts'
import { bin, orgkit } from './support/orgkit.ts'

// `npm start` on an empty embedded data folder: the repository's `orgkit` (bin/orgkit.js) names the
// migrated template's folder (ORGKIT_TEMPLATE_DIR, node_modules/.cache/orgkit), the store fills the empty
// folder with a copy of it, and the server starts from the CLI's bundle: the path a new user takes.
const dir = mkdtempSync(join(tmpdir(), 'orgkit-start-'))
let server: ChildProcess | undefined
afterAll(() => {
  server?.kill()
  rmSync(dir, { recursive: true, force: true })
})

describe('npm start on an empty data folder', () => {
  it('fills a folder that does not exist yet, or holds only the key file, from the template', async () => {
    const env = { ORGKIT_DATABASE_URL: '', ORGKIT_TEMPLATE_DIR: TEMPLATE_DIR || undefined }
    const dataDir = join(dir, 'new', 'data')
    // Migrated already: a copy of the template, not initdb and every migration.
    const fresh = await orgkit(['migrate'], { ...env, ORGKIT_DATA_DIR: dataDir })
    expect([fresh.code, fresh.stdout]).toEqual([0, 'the schema is up to date\n'])
    expect(existsSync(join(dataDir, 'PG_VERSION'))).toBe(true)

    // The server makes its key file in the folder before it opens the database: still filled from the
    // template (not initdb and every migration), and the key stays.
    const keyed = join(dir, 'keyed')
    mkdirSync(keyed)
    writeFileSync(join(keyed, 'secret.key'), 'k1:kept\n')
    const filled = await orgkit(['migrate'], { ...env, ORGKIT_DATA_DIR: keyed })
    expect([filled.code, filled.stdout]).toEqual([0, 'the schema is up to date\n'])
    expect(readFileSync(join(keyed, 'secret.key'), 'utf8')).toBe('k1:kept\n')
  })

  it('serves from the filled folder: /healthz answers and the first platform token is printed', async () => {
    const dataDir = join(dir, 'served')
    const env: Record<string, string | undefined> = { ...process.env }
    delete env.ORGKIT_TEMPLATE_DIR // the binary names the repository's own
    server = spawn(process.execPath, [bin, 'start'], {
      env: { ...env, ORGKIT_DATA_DIR: dataDir, ORGKIT_DATABASE_URL: '', PORT: '0' },
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    let out = ''
    const url = await new Promise<string>((found, failed) => {
      server!.stdout!.on('data', (chunk) => {
        out += chunk
        const match = out.match(/running at (http:\/\/\S+)/)
        if (match && /okp_\w+/.test(out)) found(match[1]!)
      })
      server!.once('exit', (code) => failed(new Error(`the server exited (${code}):\n${out}`)))
    })
    const health = await fetch(`${url}/healthz`)
    expect(health.status).toBe(200)
    expect(existsSync(join(dataDir, 'PG_VERSION'))).toBe(true)
  })
})
