import { Command, CommanderError } from 'commander'
import { registerAdminCommands } from './admin.ts'
import { registerConfigCommands } from './config-as-code.ts'
import { databaseOf } from './database.ts'
import type { Io } from './io.ts'
import { registerModelCommands } from './model.ts'
import { registerModelDiff } from './model-diff.ts'

/**
 * The server and the store load only in the commands that use them: an admin command over the API, a
 * `--help` or a `model test` starts in a fraction of the time it takes to load the whole server.
 */
const storeOf = async (env: Io['env']) => {
  const [{ loadConfig }, store] = await Promise.all([
    import('@orgkit/server/config'),
    import('@orgkit/store'),
  ])
  const config = loadConfig(env)
  return { config, database: databaseOf(config), ...store }
}

type StoreModule = Awaited<ReturnType<typeof storeOf>>

/**
 * Runs `work` on the configured database, opened and migrated, and closes it whatever happens. Answers what
 * `work` does; `migrated` lists the migrations this opening applied.
 */
async function withStore<T>(
  env: Io['env'],
  work: (db: import('@orgkit/store').Db, modules: StoreModule, migrated: string[]) => Promise<T>,
): Promise<T> {
  const modules = await storeOf(env)
  const store = await modules.openStore(modules.database)
  try {
    return await work(store.db, modules, await modules.migrate(store.db))
  } finally {
    await store.close()
  }
}

/** The `orgkit` command, writing to `io`: commander's help and usage errors too, and it never exits. */
function orgkit(io: Io): Command {
  const program = new Command('orgkit')
    .description('Orgkit: organizations, roles and permissions for multi-tenant products')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.out(text.replace(/\n$/, '')),
      writeErr: (text) => io.err(text.replace(/\n$/, '')),
    })

  program
    .command('start')
    .description('run the server (embedded database unless ORGKIT_DATABASE_URL is set)')
    .action(async () => (await import('./start.ts')).start())

  program
    .command('migrate')
    .description('bring the database schema up to date')
    .action(() =>
      withStore(io.env, async (_db, _modules, applied) =>
        io.out(applied.length ? `applied: ${applied.join(', ')}` : 'the schema is up to date'),
      ),
    )

  const tokensCommand = program.command('tokens').description('platform tokens for the host product')
  tokensCommand
    .command('create')
    .argument('<name>', 'what the token is for')
    .description('create a platform token; its secret is printed once')
    .action((name: string) =>
      withStore(io.env, async (db, { tokens }) =>
        io.out((await tokens.createPlatformToken(db, name)).secret),
      ),
    )

  tokensCommand
    .command('list')
    .description('list platform tokens (their prefixes, never their secrets)')
    .action(() =>
      withStore(io.env, async (db, { tokens }) => {
        for (const t of await tokens.listPlatformTokens(db)) {
          const state = t.revoked_at ? `revoked ${t.revoked_at.toISOString()}` : 'live'
          io.out(`${t.id}  ${t.prefix}  ${state}  ${t.name}`)
        }
      }),
    )
  tokensCommand
    .command('revoke')
    .argument('<token>', 'its id, or its prefix as `tokens list` shows it')
    .description('revoke a platform token: every running instance refuses it as the revocation commits')
    .action((which: string) =>
      withStore(io.env, async (db, { tokens }) => {
        const revoked = await tokens.revokePlatformToken(db, which, new Date())
        if (!revoked) throw new Error(`no live platform token has the id or prefix "${which}"`)
        io.out(`revoked ${revoked.id} (${revoked.prefix}, ${revoked.name})`)
      }),
    )

  program
    .command('secrets')
    .description(
      'secrets at rest (TOTP, unsent mail, SSO and webhook secrets), sealed under ORGKIT_SECRET_KEY',
    )
    .command('rotate')
    .description(
      'seal every stored secret under the current key (the first in ORGKIT_SECRET_KEY), so older keys can go',
    )
    .action(() =>
      withStore(io.env, async (db, { config, database }) => {
        const { loadKeyring, rotateChangeFeed, rotateEngineState, rotateSecrets, SecretBox } = await import(
          '@orgkit/server'
        )
        const box = new SecretBox(await loadKeyring(config.secretKey, database))
        const sealed = await rotateSecrets(db, box)
        // The engine's stored state and the change feed are MACed (not sealed) under keys derived from the
        // same keyring.
        const state = (await rotateEngineState(db, box.keyring)) ? 1 : 0
        const feed = await rotateChangeFeed(db, box.keyring)
        io.out(
          `sealed under key "${box.keyring.current}": ${sealed.totp} TOTP secret(s), ${sealed.mail} unsent mail(s), ${sealed.sso} SSO connection(s), ${sealed.webhook} webhook endpoint(s), ${state} engine state(s) and ${feed} change-feed entry(ies) MACed anew`,
        )
      }),
    )

  registerAdminCommands(program, io)
  registerModelDiff(registerModelCommands(program, io), io)
  registerConfigCommands(program, io)
  return program
}

/**
 * Runs one `orgkit` command line (the arguments after `orgkit`) and answers its exit code: 0, the code the
 * command set (a denied check's 3, …), commander's for help and usage errors, or 1 for a failure, which
 * `io.err` shows as the API's problem code and message, not a stack trace. It never exits the process:
 * the binary does (cli.ts), and tests run commands here. `start` alone reads the process's environment.
 */
export async function run(args: readonly string[], io: Omit<Io, 'exit'>): Promise<number> {
  let code = 0
  const program = orgkit({ ...io, exit: (c) => (code = c) })
  try {
    await program.parseAsync(args, { from: 'user' })
    return code
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode
    const e = error as { code?: string; message?: string }
    io.err(`orgkit: ${e.code ? `${e.code}: ` : ''}${e.message}`)
    return 1
  }
}
