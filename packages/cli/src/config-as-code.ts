import { readFile, writeFile } from 'node:fs/promises'
import type { OrgkitClient } from '@orgkit/sdk'
import type { Command } from 'commander'
import { clientFor, type Globals } from './admin.ts'
import type { Io } from './io.ts'

/**
 * Config as code (issue 23.4, docs/config-as-code.md): `export` writes an org as YAML, `plan` says what a
 * file would change, `apply` makes that change — all over the REST API, so the server does the diff and
 * the writes through its use cases, in one transaction, with their audit entries. `yaml` and the SDK load
 * only when one of these commands runs.
 */
interface Change {
  action: 'create' | 'update' | 'delete'
  kind: string
  name: string
}

const SIGN = { create: '+', update: '~', delete: '-' } as const

function printChanges(out: Io, changes: Change[], done: boolean) {
  if (changes.length === 0) return out.out('no changes: the organization already matches the file')
  for (const c of changes) out.out(`${SIGN[c.action]} ${c.kind} ${c.name}`)
  out.out(`${changes.length} change(s) ${done ? 'applied' : 'to apply'}`)
}

async function readDocument(file: string) {
  const { parse } = await import('yaml')
  const text = await readFile(file, 'utf8')
  try {
    return parse(text) as unknown
  } catch (error) {
    throw new Error(`${file}: not YAML: ${(error as Error).message}`)
  }
}

/** A refused file: every error the server listed, one a line. */
async function explained<T>(io: Io, call: Promise<T>): Promise<T> {
  try {
    return await call
  } catch (error) {
    const problem = (error as { problem?: { details?: { errors?: { at: string; message: string }[] } } })
      .problem
    const errors = problem?.details?.errors
    if (errors) for (const e of errors) io.err(`  ${e.at}: ${e.message}`)
    throw error
  }
}

export function registerConfigCommands(program: Command, output: Io): void {
  const api = (): OrgkitClient => clientFor(program.opts<Globals>(), output.env)
  const orgOption = ['--org <orgId>', 'the organization (ORGKIT_ORG)', output.env.ORGKIT_ORG] as const
  program
    .command('export')
    .requiredOption(...orgOption)
    .option('-o, --out <file>', 'write the YAML here instead of to standard output')
    .description('write an organization’s groups, custom roles, bindings, overrides and settings as YAML')
    .action(async (options: { org: string; out?: string }) => {
      const [{ must }, { stringify }] = await Promise.all([import('@orgkit/sdk'), import('yaml')])
      const doc = await must(
        api().GET('/v1/orgs/{orgId}/config', { params: { path: { orgId: options.org } } }),
      )
      const text = stringify(doc)
      if (options.out) await writeFile(options.out, text)
      else output.out(text.trimEnd())
    })
  for (const verb of ['plan', 'apply'] as const) {
    program
      .command(verb)
      .requiredOption(...orgOption)
      .requiredOption('-f, --file <file>', 'the YAML file (as `orgkit export` writes it)')
      .description(
        verb === 'plan'
          ? 'show what applying the file would change (nothing is written)'
          : 'make the organization what the file says, in one transaction; applying twice changes nothing',
      )
      .action(async (options: { org: string; file: string }) => {
        const { must } = await import('@orgkit/sdk')
        const body = (await readDocument(options.file)) as never
        const params = { path: { orgId: options.org } }
        const reply = await explained(
          output,
          must(
            verb === 'plan'
              ? api().POST('/v1/orgs/{orgId}/config/plan', { params, body })
              : api().POST('/v1/orgs/{orgId}/config/apply', { params, body }),
          ),
        )
        printChanges(output, reply.changes, verb === 'apply')
      })
  }
}
