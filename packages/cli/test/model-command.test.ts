import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { presetFile } from '@orgkit/core/files'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { orgkit, orgkitProcess } from './support/orgkit.ts'

describe('orgkit model test', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'orgkit-model-'))
  })
  afterAll(() => rm(dir, { recursive: true, force: true }))

  it('passes a preset’s own tests by name, exit 0', async () => {
    const { stdout, code } = await orgkit(['model', 'test', 'projects'])
    expect(code).toBe(0)
    expect(stdout).toMatch(/model "projects", 4 tests/)
    expect(stdout).toMatch(/✓ Enforce 2-factor authentication/)
    expect(stdout).toMatch(/all 4 passed/)
  })

  it('reports a failed answer at its line, exit 1', async () => {
    const text = (await readFile(presetFile('projects'), 'utf8')).replace(
      '      - { user: cy, cannot: project.read, on: p1 }',
      '      - { user: cy, can: project.read, on: p1 }',
    )
    const file = join(dir, 'wrong-answer.yaml')
    await writeFile(file, text)
    const line = text.split('\n').findIndex((l) => l.includes('{ user: cy, can: project.read')) + 1
    // The binary: a failed test reaches the shell as exit code 1, its report on standard output.
    const { stdout, code } = await orgkitProcess(['model', 'test', file])
    expect(code).toBe(1)
    expect(stdout).toContain(`✗ Instead of giving a specific account access to a project`)
    expect(stdout).toContain(`${file}:${line}:9: cy can project.read on p1, but may not (no_grant)`)
    expect(stdout).toMatch(/1 of 4 failed/)
  })

  it('lists every error of a file that does not load — and the server refuses to start with it', async () => {
    const file = join(dir, 'broken.yaml')
    await writeFile(
      file,
      (await readFile(presetFile('projects'), 'utf8'))
        .replace('      - project.read\n    priority: 20', '      - project.raed\n    priority: 20')
        .replace('    label: Editor\n', '    labl: Editor\n'),
    )
    const tested = await orgkit(['model', 'test', file])
    expect(tested.code).toBe(1)
    expect(tested.stdout).toMatch(/broken\.yaml: 3 errors/)
    expect(tested.stdout).toMatch(
      /:\d+:9: role "project_viewer" has unknown permission "project.raed" — did you mean "project.read"\?/,
    )
    expect(tested.stdout).toMatch(/"labl" is not a field here — did you mean `label`\?/)
    const started = await orgkit(['migrate'], { ORGKIT_MODEL: file, ORGKIT_DATA_DIR: join(dir, 'data') })
    expect(started.code).toBe(1)
    expect(started.stderr).toMatch(/INVALID_MODEL: .*broken\.yaml: 3 errors/)
    expect(started.stderr).toMatch(/did you mean "project.read"/)
  })
})
