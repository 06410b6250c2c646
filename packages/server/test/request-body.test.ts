import { request } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MAX_BODY_BYTES } from '../src/request.ts'
import { DATABASES, startTestServer, type TestServer } from './support/harness.ts'

/**
 * A request's body is read once (request.ts's readBody): straight from the socket when its length is
 * declared, as a stream when it is chunked. Either way it stays within MAX_BODY_BYTES and reaches the
 * validators whole, BOM and all as `Request.text()` would read it.
 */

/** POST /v1/users over HTTP/1.1 with the body sent in `chunks` (Transfer-Encoding: chunked). */
function postChunked(
  s: TestServer,
  chunks: string[],
): Promise<{ status: number; body: { code?: string; email?: string } }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${s.url}/v1/users`,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${s.token}`, 'content-type': 'application/json' },
      },
      (res) => {
        let raw = ''
        res.setEncoding('utf8')
        res.on('data', (chunk) => {
          raw += chunk
        })
        res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(raw) }))
      },
    )
    // The server answers before the whole of an oversized body is sent: that ends the request, not the test.
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE' && error.code !== 'ECONNRESET') reject(error)
    })
    for (const chunk of chunks) req.write(chunk)
    req.end()
  })
}

describe.each(DATABASES)('request bodies (%s)', (database) => {
  let s: TestServer
  beforeAll(async () => {
    s = await startTestServer(database)
  })
  afterAll(() => s.stop())

  it('refuses a body over the limit, declared or chunked', async () => {
    const pad = 'x'.repeat(MAX_BODY_BYTES)
    const declared = await s.platform.post('/v1/users', { email: 'big@example.com', name: pad })
    expect(declared.status).toBe(400)
    expect(declared.body.code).toBe('VALIDATION_FAILED')
    expect(declared.body.details.field).toBe('body')
    const chunked = await postChunked(s, ['{"email":"big2@example.com","name":"', pad, '"}'])
    expect(chunked.status).toBe(400)
    expect(chunked.body.code).toBe('VALIDATION_FAILED')
  })

  it('reads a body whole either way, a leading BOM dropped', async () => {
    const declared = await s.platform.request(
      'POST',
      '/v1/users',
      '\ufeff{"email":"bom@example.com","name":"Bom"}',
    )
    expect(declared.status).toBe(201)
    expect(declared.body.email).toBe('bom@example.com')
    const chunked = await postChunked(s, ['{"email":"chunk', 'ed@example.com","na', 'me":"Chunked"}'])
    expect(chunked.status).toBe(201)
    expect(chunked.body.email).toBe('chunked@example.com')
  })
})
