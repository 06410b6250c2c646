import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'

// `npm start` fills an empty embedded data folder from a migrated template (scripts/data-dir-template.mjs),
// then starts the server from the CLI's bundle (bin/orgkit.js): the path a new user takes.
const template = fileURLToPath(new URL('../scripts/data-dir-template.mjs', import.meta.url))
const bin = fileURLToPath(new URL('../bin/orgkit.js', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'orgkit-start-'))
let server: ChildProcess | undefined
afterAll(() => {
  server?.kill()
  rmSync(dir, { recursive: true, force: true })
})

const fill = (dataDir: string) =>
  execFileSync(process.execPath, [template], {
    encoding: 'utf8',
    env: { ...process.env, ORGKIT_DATA_DIR: dataDir, ORGKIT_DATABASE_URL: '' },
  })

describe('npm start on an empty data folder', () => {
  it('fills a folder that does not exist yet from the template, and leaves one with other files alone', () => {
    const dataDir = join(dir, 'new', 'data')
    expect(fill(dataDir)).toContain(`database: ${dataDir} made from the migrated template`)
    expect(existsSync(join(dataDir, 'PG_VERSION'))).toBe(true)

    const other = join(dir, 'other')
    mkdirSync(other)
    writeFileSync(join(other, 'notes.txt'), 'mine')
    expect(fill(other)).toBe('')
    expect(readdirSync(other)).toEqual(['notes.txt'])
  })

  it('serves from the filled folder: /healthz answers and the first platform token is printed', async () => {
    const dataDir = join(dir, 'served')
    fill(dataDir)
    server = spawn(process.execPath, [bin, 'start'], {
      env: { ...process.env, ORGKIT_DATA_DIR: dataDir, ORGKIT_DATABASE_URL: '', PORT: '0' },
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
  })
})
