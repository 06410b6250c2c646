import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Writable } from 'node:stream'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTracing, type Tracing, tracingWanted } from '../src/tracing.ts'
import { DATABASES, startTestServer, type TestServer } from './support/harness.ts'

interface OtlpSpan {
  traceId: string
  spanId: string
  parentSpanId?: string
  name: string
  kind: number
  attributes: { key: string; value: { stringValue?: string; intValue?: number | string } }[]
}

/** An OTLP/HTTP receiver on loopback: decodes each JSON export and keeps its spans, as a collector would. */
async function startReceiver() {
  const spans: OtlpSpan[] = []
  const services = new Set<string>()
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      expect(req.url).toBe('/v1/traces')
      expect(req.headers['content-type']).toMatch(/^application\/json/)
      const body = JSON.parse(Buffer.concat(chunks).toString()) as {
        resourceSpans: {
          resource: { attributes: OtlpSpan['attributes'] }
          scopeSpans: { spans: OtlpSpan[] }[]
        }[]
      }
      for (const r of body.resourceSpans) {
        for (const a of r.resource.attributes)
          if (a.key === 'service.name') services.add(a.value.stringValue!)
        for (const s of r.scopeSpans) spans.push(...s.spans)
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans,
    services,
    close: () => new Promise((resolve) => server.close(resolve)),
  }
}

const attribute = (span: OtlpSpan, key: string) => {
  const value = span.attributes.find((a) => a.key === key)?.value
  return value?.stringValue ?? (value?.intValue !== undefined ? Number(value.intValue) : undefined)
}

describe('tracing switches on only when the OTEL_* variables ask', () => {
  it('reads the standard variables', () => {
    expect(tracingWanted({})).toBe(false)
    expect(tracingWanted({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe(true)
    expect(tracingWanted({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' })).toBe(
      true,
    )
    expect(tracingWanted({ OTEL_TRACES_EXPORTER: 'otlp' })).toBe(true)
    expect(
      tracingWanted({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }),
    ).toBe(false)
    expect(tracingWanted({ OTEL_SDK_DISABLED: 'true', OTEL_TRACES_EXPORTER: 'otlp' })).toBe(false)
  })
})

// One tracer provider per process, as `orgkit start` registers it: both databases' servers export to it.
let receiver: Awaited<ReturnType<typeof startReceiver>>
let tracing: Tracing
beforeAll(async () => {
  receiver = await startReceiver()
  tracing = (await startTracing({
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_SERVICE_NAME: 'orgkit-test',
  }))!
})
afterAll(async () => {
  await tracing?.shutdown()
  await receiver?.close()
})

describe.each(DATABASES)('traces and request logs (%s)', (database) => {
  let server: TestServer
  const lines: { msg: string; requestId?: string; route?: string; status?: number; level: number }[] = []

  beforeAll(async () => {
    const log = new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line))
        done()
      },
    })
    server = await startTestServer(database, { server: { logger: pino({ level: 'info' }, log) } })
  })
  afterAll(async () => {
    await server?.stop()
  })

  it('exports a span per request (route, status) with its database calls as children, over OTLP/HTTP', async () => {
    await tracing.flush()
    receiver.spans.length = 0 // this database's spans only
    const created = await fetch(`${server.url}/v1/users`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${server.token}`,
        'content-type': 'application/json',
        'x-request-id': 'trace-me-1',
      },
      body: JSON.stringify({ email: 'traced@example.com', name: 'Traced' }),
    })
    expect(created.status).toBe(201)
    const userId = ((await created.json()) as { id: string }).id
    // The hot path (hot/listener.ts), continuing a caller's W3C trace context.
    const callerTrace = '4bf92f3577b34da6a3ce929d0e0e4736'
    const checked = await fetch(`${server.url}/v1/check`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${server.token}`,
        'content-type': 'application/json',
        traceparent: `00-${callerTrace}-00f067aa0ba902b7-01`,
      },
      body: JSON.stringify({
        subject: { type: 'user', id: userId },
        permission: 'org.read',
        resource: { org: userId },
      }),
    })
    expect(checked.status).toBe(200)
    await tracing.flush()

    expect(receiver.services).toContain('orgkit-test')
    const request = receiver.spans.find((s) => s.name === 'POST /v1/users')!
    expect(request).toBeDefined()
    expect(request.kind).toBe(2) // SERVER
    expect(attribute(request, 'http.route')).toBe('/v1/users')
    expect(attribute(request, 'http.response.status_code')).toBe(201)
    const queries = receiver.spans.filter((s) => s.parentSpanId === request.spanId)
    expect(queries.every((q) => q.traceId === request.traceId && q.kind === 3)).toBe(true) // CLIENT
    expect(queries.map((q) => attribute(q, 'db.query.text'))).toContainEqual(
      expect.stringMatching(/^insert into "users"/),
    )
    expect(queries.map((q) => q.name)).toEqual(expect.arrayContaining(['begin', 'insert', 'commit']))

    const check = receiver.spans.find((s) => s.name === 'POST /v1/check')!
    expect(check).toMatchObject({ traceId: callerTrace, parentSpanId: '00f067aa0ba902b7' })
    expect(attribute(check, 'http.response.status_code')).toBe(200)
  })

  it('logs one line per request at info, with its request id', async () => {
    const requests = lines.filter((l) => l.msg === 'request')
    const mine = requests.filter((l) => l.requestId === 'trace-me-1')
    expect(mine).toEqual([expect.objectContaining({ level: 30, route: '/v1/users', status: 201 })])
    expect(requests.filter((l) => l.route === '/v1/check')).toHaveLength(1)
  })
})
