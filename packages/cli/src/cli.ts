import { presets } from '@orgkit/core'
import { loadConfig, startServer } from '@orgkit/server'
import { migrate, openStore, tokens } from '@orgkit/store'
import { Command } from 'commander'
import pino from 'pino'
import { registerAdminCommands } from './admin.ts'

const databaseOf = (config: ReturnType<typeof loadConfig>) =>
  config.databaseUrl ? { url: config.databaseUrl } : { dataDir: config.dataDir }

const program = new Command('orgkit').description(
  'Orgkit: organizations, roles and permissions for multi-tenant products',
)

program
  .command('start')
  .description('run the server (embedded database unless ORGKIT_DATABASE_URL is set)')
  .action(async () => {
    const config = loadConfig()
    const logger = pino({ level: config.logLevel })
    const server = await startServer({
      database: databaseOf(config),
      model: presets[config.model],
      plans: config.plans,
      port: config.port,
      host: config.host,
      smtpUrl: config.smtpUrl,
      mailFrom: config.mailFrom,
      publicUrl: config.publicUrl,
      signup: config.signup,
      webhooksAllowPrivate: config.webhooksAllowPrivate,
      auditRetentionDays: config.auditRetentionDays,
      trustProxyHops: config.trustProxyHops,
      logger,
      // A local instance's console shows the mail that has nowhere else to go (docs/console.md).
      localOutbox: true,
    })
    const where = config.databaseUrl ? 'PostgreSQL server' : `embedded database in ${config.dataDir}`
    console.log(
      `\nOrgkit is running at ${config.publicUrl ?? server.url}  (model "${config.model}", ${where})`,
    )
    const base = config.publicUrl ?? server.url
    if (server.consoleServed) console.log(`  Console: ${base}/  (sign up there; docs/console.md)`)
    console.log(`  API reference: ${server.url}/v1/docs   OpenAPI: ${server.url}/v1/openapi.json`)
    console.log(
      config.smtpUrl
        ? '  Mail goes out over SMTP.'
        : `  No SMTP configured: mail waits in the local outbox (${base}/outbox in the console, GET /v1/outbox).`,
    )
    if (server.bootstrapToken) {
      console.log('\n  First start: a platform token was created. It is shown once; keep it:')
      console.log(`    ${server.bootstrapToken}`)
      console.log('  Use it as  Authorization: Bearer <token>  (see README "Try it with curl").')
    } else {
      console.log('  Need a platform token? npx orgkit tokens create <name>')
    }
    const stop = async () => {
      await server.close()
      process.exit(0)
    }
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
  })

program
  .command('migrate')
  .description('bring the database schema up to date')
  .action(async () => {
    const config = loadConfig()
    const store = await openStore(databaseOf(config))
    const applied = await migrate(store.db)
    console.log(applied.length ? `applied: ${applied.join(', ')}` : 'the schema is up to date')
    await store.close()
  })

const tokensCommand = program.command('tokens').description('platform tokens for the host product')
tokensCommand
  .command('create')
  .argument('<name>', 'what the token is for')
  .description('create a platform token; its secret is printed once')
  .action(async (name: string) => {
    const config = loadConfig()
    const store = await openStore(databaseOf(config))
    await migrate(store.db)
    const token = await tokens.createPlatformToken(store.db, name)
    console.log(token.secret)
    await store.close()
  })

registerAdminCommands(program)

try {
  await program.parseAsync()
} catch (error) {
  // The API's problem code and message, not a stack trace.
  const e = error as { code?: string; message?: string }
  console.error(`orgkit: ${e.code && !e.code.startsWith('commander.') ? `${e.code}: ` : ''}${e.message}`)
  process.exit(1)
}
