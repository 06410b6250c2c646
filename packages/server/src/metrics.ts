import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client'
import { closeWhenAnswered } from './http-close.ts'

/** What `/metrics` exposes: the process's defaults and the request durations of both HTTP paths. */
export class Metrics {
  readonly registry = new Registry()
  readonly #duration = new Histogram({
    name: 'orgkit_http_request_duration_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  })
  readonly hotPath = new Counter({
    name: 'orgkit_hot_path_requests_total',
    help: 'Authorization API requests answered by the hot path (without the framework)',
    registers: [this.registry],
  })

  constructor() {
    collectDefaultMetrics({ register: this.registry })
  }

  /** One answered request: by the route's pattern, never its path (paths carry invitation tokens). */
  observe(method: string, route: string, status: number, seconds: number): void {
    this.#duration.observe({ method, route, status: String(status) }, seconds)
  }
}

/**
 * `/metrics` on a listen address of its own (ORGKIT_METRICS_ADDRESS: an interface only the scraper reaches),
 * without a token; it answers nothing else. Resolves once listening, with its URL and how to close it.
 */
export async function listenMetrics(
  metrics: Metrics,
  address: { host: string; port: number },
): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n')
      return
    }
    metrics.registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
      () => res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics failed\n'),
    )
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(address.port, address.host, () => resolve())
  })
  const bound = server.address() as AddressInfo
  const host = bound.address.includes(':') ? `[${bound.address}]` : bound.address
  return {
    url: `http://${host}:${bound.port}`,
    close: closeWhenAnswered(server),
  }
}
