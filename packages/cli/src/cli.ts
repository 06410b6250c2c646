import { loadConfig, loadKeyring, rotateSecrets, SecretBox } from '@orgkit/server'
import { migrate, openStore, tokens } from '@orgkit/store'
import { Command } from 'commander'
import { registerAdminCommands } from './admin.ts'
import { registerConfigCommands } from './config-as-code.ts'
import { registerModelCommands } from './model.ts'
import { databaseOf, start } from './start.ts'

const program = new Command('orgkit').description(
  'Orgkit: organizations, roles and permissions for multi-tenant products',
)

program
  .command('start')
  .description('run the server (embedded database unless ORGKIT_DATABASE_URL is set)')
  .action(start)

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

tokensCommand
  .command('list')
  .description('list platform tokens (their prefixes, never their secrets)')
  .action(async () => {
    const store = await openStore(databaseOf(loadConfig()))
    try {
      await migrate(store.db)
      for (const t of await tokens.listPlatformTokens(store.db)) {
        const state = t.revoked_at ? `revoked ${t.revoked_at.toISOString()}` : 'live'
        console.log(`${t.id}  ${t.prefix}  ${state}  ${t.name}`)
      }
    } finally {
      await store.close()
    }
  })
tokensCommand
  .command('revoke')
  .argument('<token>', 'its id, or its prefix as `tokens list` shows it')
  .description('revoke a platform token: every running instance refuses it as the revocation commits')
  .action(async (which: string) => {
    const store = await openStore(databaseOf(loadConfig()))
    try {
      await migrate(store.db)
      const revoked = await tokens.revokePlatformToken(store.db, which, new Date())
      if (!revoked) throw new Error(`no live platform token has the id or prefix "${which}"`)
      console.log(`revoked ${revoked.id} (${revoked.prefix}, ${revoked.name})`)
    } finally {
      await store.close()
    }
  })

program
  .command('secrets')
  .description('secrets at rest (TOTP secrets, unsent mail), sealed under ORGKIT_SECRET_KEY')
  .command('rotate')
  .description(
    'seal every stored secret under the current key (the first in ORGKIT_SECRET_KEY), so older keys can go',
  )
  .action(async () => {
    const config = loadConfig()
    const database = databaseOf(config)
    const box = new SecretBox(await loadKeyring(config.secretKey, database))
    const store = await openStore(database)
    try {
      await migrate(store.db)
      const sealed = await rotateSecrets(store.db, box)
      console.log(
        `sealed under key "${box.keyring.current}": ${sealed.totp} TOTP secret(s), ${sealed.mail} unsent mail(s), ${sealed.sso} SSO connection(s)`,
      )
    } finally {
      await store.close()
    }
  })

registerAdminCommands(program)
registerConfigCommands(program)
registerModelCommands(program)

try {
  await program.parseAsync()
} catch (error) {
  // The API's problem code and message, not a stack trace.
  const e = error as { code?: string; message?: string }
  console.error(`orgkit: ${e.code && !e.code.startsWith('commander.') ? `${e.code}: ` : ''}${e.message}`)
  process.exit(1)
}
