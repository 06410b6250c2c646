import type { ExplainFact, Explanation } from '@orgkit/core'
import { createOrgkitClient, must, type OrgkitClient } from '@orgkit/sdk'
import type { Command } from 'commander'
import type { Io } from './io.ts'

/**
 * Admin tasks over the REST API, through the generated SDK: the same routes, checks and audit trail as any
 * other caller. Credentials come from the environment (`ORGKIT_URL`, `ORGKIT_TOKEN`: a platform token or a
 * user's API key) or the flags; `--as <userId>` makes a platform token act as one of its users.
 */
export interface Globals {
  url: string
  token?: string
  as?: string
  json?: boolean
}

/** How a connection fails when nothing listens there, or the address leads nowhere. */
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'ECONNRESET',
])

/** The API client for the global options; without --token, ORGKIT_TOKEN from `env`. */
export function clientFor(g: Globals, env: Io['env']): OrgkitClient {
  const token = g.token ?? env.ORGKIT_TOKEN
  if (!token)
    throw new Error('no credentials: set ORGKIT_TOKEN (a platform token or an API key) or pass --token')
  const baseUrl = g.url.replace(/\/$/, '')
  const client = createOrgkitClient({ baseUrl, token })
  // No server there (or no route to it): fetch says only "fetch failed"; say where, and what to do. Any other
  // failure (a certificate, say) goes on as it came.
  client.use({
    onError({ error }) {
      const code = (error as { cause?: { code?: unknown } }).cause?.code
      if (typeof code !== 'string' || !UNREACHABLE.has(code)) return
      return Object.assign(
        new Error(
          `no Orgkit server answered at ${baseUrl} (${code}): ` +
            'start one (npx orgkit start), or point ORGKIT_URL or --url at yours',
        ),
        { code: 'UNREACHABLE', cause: error },
      )
    },
  })
  if (g.as) {
    const actAs = g.as
    client.use({
      onRequest({ request }) {
        request.headers.set('x-orgkit-user', actAs)
        return request
      },
    })
  }
  return client
}

/** One fact of an explanation, in a line (`--json` gives them whole). */
function describeFact(fact: ExplainFact): string {
  const who = (p: { type: string; id: string }) => `${p.type} ${p.id}`
  switch (fact.kind) {
    case 'binding':
      return `${fact.roleKey} on ${fact.scope.type} ${fact.scope.id}, bound to ${who(fact.principal)} (${fact.status})`
    case 'override':
      return `${fact.effect} override on ${fact.resourceId} for ${who(fact.principal)}`
    case 'policy':
      return `org ${fact.orgId}'s ${fact.rule === 'mfa' ? 'two-factor' : 'password'} policy`
    case 'key':
      return `API key ${fact.keyId}: ${fact.rule}`
  }
}

/** `org:<id>` or `<type>:<id>`, as the check API takes them. */
function target(spec: string): { org: string } | { type: string; id: string } {
  const at = spec.indexOf(':')
  if (at <= 0 || at === spec.length - 1)
    throw new Error(`"${spec}" is not <type>:<id> (e.g. app:1f0…, org:7c2…)`)
  const [type, id] = [spec.slice(0, at), spec.slice(at + 1)]
  return type === 'org' ? { org: id } : { type, id }
}

function table(out: Io, rows: Record<string, unknown>[], columns: string[]) {
  const cells = rows.map((r) => columns.map((c) => String(r[c] ?? '')))
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)))
  const line = (values: string[]) =>
    values
      .map((v, i) => v.padEnd(widths[i]!))
      .join('  ')
      .trimEnd()
  out.out(line(columns))
  for (const row of cells) out.out(line(row))
}

export function registerAdminCommands(program: Command, output: Io): void {
  program
    .option('--url <url>', 'the Orgkit server (ORGKIT_URL)', output.env.ORGKIT_URL ?? 'http://127.0.0.1:3000')
    // No default value here: commander prints defaults in --help, and this one is a secret.
    .option('--token <token>', 'a platform token or API key (default: ORGKIT_TOKEN)')
    .option('--as <userId>', 'with a platform token: act as this user (X-Orgkit-User)')
    .option('--json', 'print the API’s JSON instead of a table')
  const globals = () => program.opts<Globals>()
  const api = () => clientFor(globals(), output.env)
  const print = (data: unknown, rows: () => void) => {
    if (globals().json) output.out(JSON.stringify(data, null, 2))
    else rows()
  }

  const users = program.command('users').description('the product’s users (platform token)')
  users
    .command('create')
    .argument('<email>')
    .argument('<name>')
    .description('provision a user')
    .action(async (email: string, name: string) => {
      const user = await must(api().POST('/v1/users', { body: { email, name } }))
      print(user, () => output.out(user.id))
    })

  const orgs = program.command('orgs').description('organizations')
  orgs
    .command('list')
    .description('the organizations the caller can read')
    .action(async () => {
      const page = await must(api().GET('/v1/orgs'))
      print(page, () => table(output, page.items, ['id', 'name', 'parentId']))
    })
  orgs
    .command('create')
    .argument('<name>')
    .option('--parent <orgId>', 'make it a sub-organization')
    .description('create an organization (with a platform token, --as its creator)')
    .action(async (name: string, options: { parent?: string }) => {
      const org = await must(
        api().POST('/v1/orgs', { body: { name, ...(options.parent && { parentId: options.parent }) } }),
      )
      print(org, () => output.out(org.id))
    })

  const membersCommand = program.command('members').description('an organization’s members')
  membersCommand
    .command('list')
    .argument('<orgId>')
    .description('members and pending invitations, by role priority')
    .action(async (orgId: string) => {
      const page = await must(api().GET('/v1/orgs/{orgId}/members', { params: { path: { orgId } } }))
      print(page, () =>
        table(
          output,
          page.items.map((m) => ({ ...m, roles: m.roles.join(',') })),
          ['userId', 'email', 'name', 'roles', 'status', 'source'],
        ),
      )
    })
  membersCommand
    .command('add')
    .argument('<orgId>')
    .argument('<userId>')
    .option('--role <key...>', 'org roles to give (default: the model’s default role)')
    .description('add a user directly (platform token; people otherwise join by invitation)')
    .action(async (orgId: string, userId: string, options: { role?: string[] }) => {
      const added = await must(
        api().POST('/v1/orgs/{orgId}/members', {
          params: { path: { orgId } },
          body: { userId, ...(options.role && { roles: options.role }) },
        }),
      )
      print(added, () => output.out(`${added.userId}: ${added.roles.join(', ')}`))
    })

  program
    .command('check')
    .argument('<permission>', 'e.g. app.upload_bundle')
    .argument('<target>', '<type>:<id>, or org:<id>')
    .option('--user <userId>', 'whose access (default: the caller)')
    .description('may they? exits 0 when allowed, 3 when denied')
    .action(async (permission: string, spec: string, options: { user?: string }) => {
      const decision = await must(
        api().POST('/v1/check', {
          body: {
            permission,
            resource: target(spec),
            ...(options.user && { subject: { type: 'user' as const, id: options.user } }),
          },
        }),
      )
      print(decision, () => output.out(`${decision.allowed ? 'allowed' : 'denied'} (${decision.reason})`))
      if (!decision.allowed) output.exit(3)
    })
  program
    .command('explain')
    .argument('<permission>')
    .argument('<target>', '<type>:<id>, or org:<id>')
    .option('--user <userId>', 'whose access (default: the caller)')
    .description('why they may or may not: the binding, override or policy that decided')
    .action(async (permission: string, spec: string, options: { user?: string }) => {
      // The document types the answer loosely (its facts are a union the schema leaves open): core's type.
      const explained = (await must(
        api().POST('/v1/explain', {
          body: {
            permission,
            resource: target(spec),
            ...(options.user && { subject: { type: 'user' as const, id: options.user } }),
          },
        }),
      )) as unknown as Explanation
      print(explained, () => {
        output.out(`${explained.allowed ? 'allowed' : 'denied'} (${explained.reason})`)
        output.out(
          `  decided by: ${explained.decidedBy ? describeFact(explained.decidedBy) : 'nothing granted it'}`,
        )
        const decider = JSON.stringify(explained.decidedBy)
        for (const fact of explained.facts)
          if (JSON.stringify(fact) !== decider) output.out(`  also looked at: ${describeFact(fact)}`)
      })
    })

  program
    .command('audit-verify')
    .argument('<orgId>')
    .description('check the org’s audit hash chain; exits 4 if an entry was edited or removed')
    .action(async (orgId: string) => {
      const result = await must(
        api().GET('/v1/orgs/{orgId}/audit-logs/verify', { params: { path: { orgId } } }),
      )
      print(result, () =>
        output.out(result.ok ? `ok: ${result.checked} entries` : `BROKEN: ${JSON.stringify(result)}`),
      )
      if (!result.ok) output.exit(4)
    })

  program
    .command('outbox')
    .description('mail waiting or sent without SMTP (platform token)')
    .action(async () => {
      const page = await must(api().GET('/v1/outbox'))
      print(page, () => table(output, page.items, ['createdAt', 'to', 'subject']))
    })
}
