import type { OpenAPIHono } from '@hono/zod-openapi'
import type { Actor, Ctx, RequestMeta } from './services/context.ts'

/** Per-request values the middleware sets for the handlers. */
export interface AppEnv {
  Variables: {
    requestId: string
    actor: Actor
    meta: RequestMeta
    /** The session cookie's value, when the caller signed in with one. */
    sessionToken: string
  }
}

export type App = OpenAPIHono<AppEnv>

/** Route modules register themselves on the app with the services' context. */
export type RouteModule = (app: App, ctx: Ctx) => void
