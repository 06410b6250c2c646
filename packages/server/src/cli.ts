import { presets } from '@orgkit/core'
import { migrate, openStore, tokens } from '@orgkit/store'
import { Command } from 'commander'
import pino from 'pino'
import { loadConfig } from './config.ts'
import { startServer } from './server.ts'

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
      logger,
    })
    const where = config.databaseUrl ? 'PostgreSQL server' : `embedded database in ${config.dataDir}`
    console.log(
      `\nOrgkit is running at ${config.publicUrl ?? server.url}  (model "${config.model}", ${where})`,
    )
    console.log(`  API reference: ${server.url}/v1/docs   OpenAPI: ${server.url}/v1/openapi.json`)
    console.log(
      config.smtpUrl
        ? '  Mail goes out over SMTP.'
        : '  No SMTP configured: mail waits in the local outbox (GET /v1/outbox).',
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

await program.parseAsync()
