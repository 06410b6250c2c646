import { randomUUID } from 'node:crypto'
import { createServer } from 'node:http'

/**
 * The ceiling for the HTTP benchmark: plain `node:http` doing only what any JSON API must — read the body,
 * `JSON.parse` it, answer a small JSON object with a request id — and nothing of Orgkit's (no caller, no
 * validation, no engine). What this answers on a machine bounds what any Node.js service answers there; the
 * bench prints Orgkit's single check (and batch: `JSON.parse` of the body, one decision per check) as a share
 * of it. Prints `{url}` on one line when ready.
 */
const server = createServer((req, res) => {
  const chunks: Buffer[] = []
  req.on('data', (chunk: Buffer) => chunks.push(chunk))
  req.on('end', () => {
    const question = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
      permission?: string
      checks?: unknown[]
    }
    // A batch gets an answer of the real one's size: one decision per check.
    const text = JSON.stringify(
      Array.isArray(question.checks)
        ? { results: question.checks.map(() => ({ allowed: true, reason: 'role' })), revision: 1 }
        : { allowed: question.permission !== undefined, reason: 'role', revision: 1 },
    )
    res.writeHead(200, {
      'x-request-id': randomUUID(),
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
    })
    res.end(text)
  })
})
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as { port: number }
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}` })}\n`)
})
process.on('SIGTERM', () => server.close(() => process.exit(0)))
