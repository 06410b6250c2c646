import type { OrgkitClient } from './index.ts'
import { must } from './index.ts'
import type { operations } from './schema.ts'

type Body<O extends keyof operations> = operations[O] extends {
  requestBody: { content: { 'application/json': infer B } }
}
  ? B
  : never
type Answer<O extends keyof operations> = operations[O] extends {
  responses: { 200: { content: { 'application/json': infer A } } }
}
  ? A
  : never
/** A request body whose `permission` (and each batched check's) is narrowed to `P`. */
type WithPermission<B, P extends string> = B extends { checks: (infer C)[] }
  ? Omit<B, 'checks'> & { checks: WithPermission<C, P>[] }
  : B extends { permission: string }
    ? Omit<B, 'permission'> & { permission: P }
    : B

export type CheckRequest<P extends string = string> = WithPermission<Body<'checkPermission'>, P>
export type CheckBatchRequest<P extends string = string> = WithPermission<Body<'checkPermissions'>, P>
export type ListResourcesRequest<P extends string = string> = WithPermission<
  Body<'listPermittedResources'>,
  P
>
export type ListPrincipalsRequest<P extends string = string> = WithPermission<
  Body<'listPermittedPrincipals'>,
  P
>
export type ExplainRequest<P extends string = string> = WithPermission<Body<'explainPermission'>, P>

/**
 * The authorization API (check, batch, list, explain) with permissions typed by the model you run. The
 * OpenAPI document types a permission as a string, since the model is chosen at deploy time and may be a
 * custom one; a product that knows its model names the keys here and a misspelt one fails to compile
 * instead of answering 400 UNKNOWN_PERMISSION:
 *
 *   const authz = authorization<PresetPermission<'capgo'>>(client)   // or PermissionOf<typeof myModel>
 *   await authz.check({ permission: 'app.upload_bundle', resource: { type: 'app', id } })
 *
 * Without a type argument any string goes, as with the plain client. Answers are unwrapped; a problem
 * throws an `OrgkitApiError` with its typed `code`.
 */
export function authorization<P extends string = string>(client: OrgkitClient) {
  return {
    check: (body: CheckRequest<P>): Promise<Answer<'checkPermission'>> =>
      must(client.POST('/v1/check', { body })),
    checkBatch: (body: CheckBatchRequest<P>): Promise<Answer<'checkPermissions'>> =>
      must(client.POST('/v1/check/batch', { body })),
    listResources: (body: ListResourcesRequest<P>): Promise<Answer<'listPermittedResources'>> =>
      must(client.POST('/v1/list-resources', { body })),
    listPrincipals: (body: ListPrincipalsRequest<P>): Promise<Answer<'listPermittedPrincipals'>> =>
      must(client.POST('/v1/list-principals', { body })),
    explain: (body: ExplainRequest<P>): Promise<Answer<'explainPermission'>> =>
      must(client.POST('/v1/explain', { body })),
  }
}
