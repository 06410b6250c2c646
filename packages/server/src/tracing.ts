import type { IncomingHttpHeaders } from 'node:http'
import {
  type Context,
  context,
  ProxyTracerProvider,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api'

/**
 * OpenTelemetry traces (issue 24.5): a server span per request — named by method and route pattern (never
 * the path: paths carry invitation tokens) — parent of a span per database call (store/src/tracing.ts).
 * The server speaks only `@opentelemetry/api`; `startTracing` starts the SDK and its OTLP/HTTP exporter
 * when the standard OTEL_* variables ask for one, and nothing is loaded otherwise.
 */

/** Whether the environment asks for traces: OTEL_TRACES_EXPORTER=otlp, or an OTLP endpoint given. */
export function tracingWanted(env: NodeJS.ProcessEnv): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false
  const exporters = (env.OTEL_TRACES_EXPORTER ?? '').split(',').map((e) => e.trim().toLowerCase())
  if (exporters.includes('none')) return false
  return (
    exporters.includes('otlp') ||
    Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim())
  )
}

export interface Tracing {
  /** Exports what is buffered now. */
  flush(): Promise<void>
  /** Exports what is buffered and stops. */
  shutdown(): Promise<void>
}

/**
 * Registers a tracer provider exporting over OTLP/HTTP (JSON) when `tracingWanted(env)`: the exporter reads
 * the endpoint and headers from the standard variables, the batch processor its OTEL_BSP_* limits, the
 * service name defaults to `orgkit`. Once per process, before the server starts (the CLI does). Returns
 * null, having loaded nothing, when the environment does not ask.
 */
export async function startTracing(env: NodeJS.ProcessEnv = process.env): Promise<Tracing | null> {
  if (!tracingWanted(env)) return null
  const [{ NodeTracerProvider, BatchSpanProcessor }, { OTLPTraceExporter }, resources] = await Promise.all([
    import('@opentelemetry/sdk-trace-node'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
  ])
  const resource = resources
    .resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME?.trim() || 'orgkit' })
    .merge(resources.detectResources({ detectors: [resources.envDetector] }))
  const provider = new NodeTracerProvider({
    resource,
    spanProcessors: [
      new BatchSpanProcessor(new OTLPTraceExporter(tracesUrl(env) ? { url: tracesUrl(env)! } : {})),
    ],
  })
  provider.register()
  return {
    flush: () => provider.forceFlush(),
    shutdown: async () => {
      await provider.shutdown()
      trace.disable()
      propagation.disable()
      context.disable()
    },
  }
}

/** Where spans go (OTLP/HTTP's rules: the traces endpoint as given, else the base endpoint + /v1/traces). */
function tracesUrl(env: NodeJS.ProcessEnv): string | undefined {
  const traces = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim()
  if (traces) return traces
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim()
  return base ? `${base.replace(/\/+$/, '')}/v1/traces` : undefined
}

/**
 * Starts requests' spans, or null when no tracer provider is registered — checked once, when the server
 * starts, so that an untraced server's hot path pays nothing per request.
 */
export function requestTracing(): RequestTracing | null {
  const provider = trace.getTracerProvider()
  const registered =
    !(provider instanceof ProxyTracerProvider) || provider.getDelegateTracer('@orgkit/server') !== undefined
  return registered ? new RequestTracing() : null
}

export class RequestTracing {
  private readonly tracer = trace.getTracer('@orgkit/server')

  /**
   * A server span for one request, continuing the caller's trace (W3C `traceparent`) and active while
   * `run` runs, so the database calls it makes are its children. `run` names the route and the status.
   */
  run<T>(
    method: string,
    headers: IncomingHttpHeaders | Headers,
    run: (done: (route: string, status: number) => void) => Promise<T>,
  ): Promise<T> {
    const parent: Context = propagation.extract(ROOT_CONTEXT, headers, {
      get: (carrier, key) => (carrier instanceof Headers ? (carrier.get(key) ?? undefined) : carrier[key]),
      keys: (carrier) => (carrier instanceof Headers ? [...carrier.keys()] : Object.keys(carrier)),
    })
    const span: Span = this.tracer.startSpan(
      method,
      { kind: SpanKind.SERVER, attributes: { 'http.request.method': method } },
      parent,
    )
    const done = (route: string, status: number) => {
      span.updateName(`${method} ${route}`)
      span.setAttributes({ 'http.route': route, 'http.response.status_code': status })
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR })
    }
    return context.with(trace.setSpan(parent, span), () => run(done)).finally(() => span.end())
  }
}
