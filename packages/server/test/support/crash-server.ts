import pino from 'pino'
import { startServer } from '../../src/server.ts'

/**
 * The server as its own process, for test/crash.test.ts to kill -9: started on the database named by the
 * JSON argument (`{dataDir}` or `{url, schema?}`), it prints one line, `{url, token}`, once it listens.
 */
const database = JSON.parse(process.argv[2]!) as { dataDir: string } | { url: string; schema?: string }
const options = {
  database,
  logger: pino({ level: 'silent' }),
  host: '127.0.0.1',
  port: 0,
  webhookIntervalMs: 0,
  // A server database needs the key that seals secrets at rest (issue 22.7); the same one at each restart.
  secretKey: 'url' in database ? Buffer.alloc(32, 7).toString('base64') : undefined,
}
const server = await startServer(options as Parameters<typeof startServer>[0])
process.stdout.write(`${JSON.stringify({ url: server.url, token: server.bootstrapToken })}\n`)
