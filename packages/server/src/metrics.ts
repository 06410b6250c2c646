import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client'

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
