import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse, stringify } from 'yaml'
import { startTestServer, type TestServer } from '../../server/test/support/harness.ts'
import { orgkit as run } from './support/orgkit.ts'

/**
 * The CLI's wiring of config as code (issue 23.4): one run of each command against a real server. What the
 * server does with a file (diff, one transaction, refusals) is server/test/config-as-code.test.ts.
 */
describe('orgkit export / plan / apply', () => {
  let s: TestServer
  let dir: string
  let env: Record<string, string>
  beforeAll(async () => {
    s = await startTestServer('pglite')
    dir = await mkdtemp(join(tmpdir(), 'orgkit-config-'))
    const alice = await s.user('Alice')
    const org = (await s.as(alice).post('/v1/orgs', { name: 'Acme' })).body.id as string
    env = { ORGKIT_URL: s.url, ORGKIT_TOKEN: s.token, ORGKIT_ORG: org }
  }, 60_000)
  afterAll(async () => {
    await s?.stop()
    await rm(dir, { recursive: true, force: true })
  })

  const orgkit = (args: string[]) => run(args, env)

  it('exports YAML, plans a change, applies it, and lists every unknown name of a refused file', async () => {
    const file = join(dir, 'acme.yaml')
    expect((await orgkit(['export', '-o', file])).code).toBe(0)
    const doc = parse(await readFile(file, 'utf8'))
    expect(doc.version).toBe(1)
    const email = doc.bindings[0].user as string
    doc.groups.push({ name: 'Release', members: [email] })
    await writeFile(file, stringify(doc))

    const plan = await orgkit(['plan', '-f', file])
    expect(plan.stdout).toBe(`+ group Release\n+ groupMember ${email} in Release\n2 change(s) to apply\n`)
    const applied = await orgkit(['apply', '-f', file])
    expect([applied.code, applied.stdout]).toEqual([0, expect.stringContaining('2 change(s) applied')])
    expect((await s.platform.get(`/v1/orgs/${env.ORGKIT_ORG}/groups`)).body.items).toContainEqual(
      expect.objectContaining({ name: 'Release' }),
    )

    doc.bindings.push({ user: 'nobody@example.com', role: 'no_such_role' })
    await writeFile(file, stringify(doc))
    const refused = await orgkit(['apply', '-f', file])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain(`bindings[${doc.bindings.length - 1}].user: no user has the email`)
    expect(refused.stderr).toContain(`bindings[${doc.bindings.length - 1}].role: no role "no_such_role"`)
    expect(refused.stderr).toContain('orgkit: VALIDATION_FAILED')
  })
})
