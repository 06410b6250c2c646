import { randomUUID } from 'node:crypto'
import { OrgkitError } from '@orgkit/core'
import { members, orgDomains, sso, type Tx } from '@orgkit/store'
import { ssoSecretContext } from '../security/secrets-at-rest.ts'
import type { SsoKind } from '../security/sso/registry.ts'
import { type Actor, authorize, type Ctx, type RequestMeta, requireOrg, write } from './context.ts'
import { openConnection, ssoUrls } from './sso.ts'
import { checkMappings, type SsoMapping, SsoMappingsSchema } from './sso-mapping.ts'

/**
 * An org's SSO connections and its "SSO required" setting (issue 21.1), all behind `org.manage_security`
 * (reads too: a connection's config says how the org's people sign in). Secrets are sealed before they are
 * stored and never answered: the view says `<field>Set: true` instead.
 */

const MANAGE = 'org.manage_security'

export interface SsoConnectionView {
  id: string
  orgId: string
  kind: SsoKind
  name: string
  enabled: boolean
  /** When a test last passed for the config as it is now; null: untested (or changed since). */
  testedAt: string | null
  testProblem: string | null
  defaultRole: string | null
  mappings: SsoMapping[]
  config: Record<string, unknown>
  /** What the admin gives their IdP: the redirect URI (OIDC) or ACS URL (SAML), and SAML's SP metadata. */
  callbackUrl: string
  metadataUrl: string | null
  createdAt: string
  updatedAt: string
}

function toView(ctx: Ctx, row: sso.SsoConnectionRow): SsoConnectionView {
  const config = { ...(row.config as Record<string, unknown>) }
  for (const field of ctx.sso.get(row.kind).secretFields) {
    const set = typeof config[field] === 'string'
    delete config[field]
    config[`${field}Set`] = set
  }
  return {
    id: row.id,
    orgId: row.org_id,
    kind: row.kind,
    name: row.name,
    enabled: row.enabled,
    testedAt: row.tested_at?.toISOString() ?? null,
    testProblem: row.test_problem,
    defaultRole: row.default_role,
    mappings: SsoMappingsSchema.catch([]).parse(row.mappings),
    config,
    ...ssoUrls(ctx, row),
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  }
}

function guard(ctx: Ctx, actor: Actor, orgId: string) {
  requireOrg(ctx, actor, orgId)
  authorize(ctx, actor, MANAGE, { type: 'org', id: orgId })
}

async function findOrThrow(tx: Tx | Ctx['db'], orgId: string, id: string) {
  const row = await sso.findConnection(tx, orgId, id)
  if (!row) throw new OrgkitError('SSO_CONNECTION_NOT_FOUND', 'no such SSO connection', { connectionId: id })
  return row
}

/** The adapter's config with its secret fields sealed to this connection; kept ones stay as stored. */
function sealConfig(ctx: Ctx, kind: SsoKind, id: string, config: Record<string, unknown>, stored?: unknown) {
  const sealed = { ...config }
  for (const field of ctx.sso.get(kind).secretFields) {
    const value = config[field]
    if (typeof value === 'string') sealed[field] = ctx.secrets.seal(value, ssoSecretContext(id, field))
    else if (stored && typeof (stored as Record<string, unknown>)[field] === 'string')
      sealed[field] = (stored as Record<string, unknown>)[field]
  }
  return sealed
}

export async function listConnections(ctx: Ctx, actor: Actor, orgId: string) {
  guard(ctx, actor, orgId)
  return { items: (await sso.listConnections(ctx.db, orgId)).map((r) => toView(ctx, r)) }
}

export async function getConnection(ctx: Ctx, actor: Actor, orgId: string, id: string) {
  guard(ctx, actor, orgId)
  return toView(ctx, await findOrThrow(ctx.db, orgId, id))
}

export interface NewConnectionInput {
  kind: SsoKind
  name: string
  config: unknown
  defaultRole?: string | null | undefined
  mappings?: SsoMapping[] | undefined
}

export async function createConnection(
  ctx: Ctx,
  actor: Actor,
  meta: RequestMeta,
  orgId: string,
  input: NewConnectionInput,
) {
  const protocol = ctx.sso.get(input.kind)
  const config = protocol.parseConfig(input.config) as Record<string, unknown>
  return write(ctx, actor, meta, orgId, async (work) => {
    guard(ctx, actor, orgId)
    await checkMappings(ctx, actor, work.tx, orgId, input.mappings ?? [], input.defaultRole ?? null)
    const id = randomUUID()
    const row = await sso.insertConnection(
      work.tx,
      {
        id,
        orgId,
        kind: input.kind,
        name: input.name,
        config: sealConfig(ctx, input.kind, id, config),
        defaultRole: input.defaultRole ?? null,
        mappings: input.mappings ?? [],
        // Enabled once tested and switched on: a half-set connection signs no one in.
        enabled: false,
      },
      new Date(ctx.clock()),
    )
    const view = toView(ctx, row)
    work.audit({
      orgId,
      action: 'sso_connection.created',
      targetType: 'sso_connection',
      targetId: id,
      after: audited(view),
    })
    return view
  })
}

/** What the audit log keeps of a connection: everything but its URLs (secrets are already out). */
const audited = ({
  callbackUrl: _c,
  metadataUrl: _m,
  createdAt: _a,
  updatedAt: _u,
  ...rest
}: SsoConnectionView) => rest

export interface ConnectionPatch {
  name?: string | undefined
  /** Fields to change; a secret field left out keeps its stored value. */
  config?: Record<string, unknown> | undefined
  enabled?: boolean | undefined
  defaultRole?: string | null | undefined
  mappings?: SsoMapping[] | undefined
}

export async function updateConnection(
  ctx: Ctx,
  actor: Actor,
  meta: RequestMeta,
  orgId: string,
  id: string,
  patch: ConnectionPatch,
) {
  return write(ctx, actor, meta, orgId, async (work) => {
    guard(ctx, actor, orgId)
    const before = await findOrThrow(work.tx, orgId, id)
    const protocol = ctx.sso.get(before.kind)
    let config: Record<string, unknown> | undefined
    if (patch.config !== undefined) {
      const current = openConnection(ctx, before).config as Record<string, unknown>
      const parsed = protocol.parseConfig({ ...current, ...patch.config }) as Record<string, unknown>
      config = sealConfig(ctx, before.kind, id, parsed, before.config)
    }
    if (patch.mappings !== undefined || patch.defaultRole !== undefined)
      await checkMappings(
        ctx,
        actor,
        work.tx,
        orgId,
        patch.mappings ?? [],
        patch.defaultRole === undefined ? null : patch.defaultRole,
      )
    const row = await sso.updateConnection(
      work.tx,
      orgId,
      id,
      {
        ...(patch.name !== undefined && { name: patch.name }),
        ...(config !== undefined && { config }),
        ...(patch.enabled !== undefined && { enabled: patch.enabled }),
        ...(patch.defaultRole !== undefined && { defaultRole: patch.defaultRole }),
        ...(patch.mappings !== undefined && { mappings: patch.mappings }),
      },
      new Date(ctx.clock()),
    )
    await assertStillReady(work.tx, orgId)
    const view = toView(ctx, row!)
    work.audit({
      orgId,
      action: 'sso_connection.updated',
      targetType: 'sso_connection',
      targetId: id,
      before: audited(toView(ctx, before)),
      after: audited(view),
    })
    return view
  })
}

export async function deleteConnection(ctx: Ctx, actor: Actor, meta: RequestMeta, orgId: string, id: string) {
  await write(ctx, actor, meta, orgId, async (work) => {
    guard(ctx, actor, orgId)
    const before = await findOrThrow(work.tx, orgId, id)
    await sso.deleteConnection(work.tx, orgId, id)
    await assertStillReady(work.tx, orgId)
    work.audit({
      orgId,
      action: 'sso_connection.deleted',
      targetType: 'sso_connection',
      targetId: id,
      before: audited(toView(ctx, before)),
    })
  })
}

/**
 * "Test connection": the adapter contacts the provider (OIDC: discovery, the issuer it names, the client
 * accepted at the token endpoint). Outside any transaction (the provider may be slow); the outcome is
 * recorded only if the config is still the one tested.
 */
export async function testConnection(ctx: Ctx, actor: Actor, meta: RequestMeta, orgId: string, id: string) {
  guard(ctx, actor, orgId)
  const row = await findOrThrow(ctx.db, orgId, id)
  const outcome = await ctx.sso.get(row.kind).test(openConnection(ctx, row))
  const problem = outcome.ok ? null : outcome.problem.slice(0, 1000)
  const { result } = await write(ctx, actor, meta, orgId, async (work) => {
    guard(ctx, actor, orgId)
    const after = await sso.recordTest(work.tx, orgId, id, row.config, { at: new Date(ctx.clock()), problem })
    // Changed (or deleted) meanwhile: what was tested is no longer stored, so nothing is marked.
    if (!after)
      return {
        ok: false,
        problem: 'the connection changed during the test: test again',
        row: await findOrThrow(work.tx, orgId, id),
      }
    work.audit({
      orgId,
      action: 'sso_connection.tested',
      targetType: 'sso_connection',
      targetId: id,
      after: { ok: outcome.ok, problem },
    })
    return { ok: outcome.ok, problem, row: after }
  })
  return { ok: result.ok, problem: result.problem, connection: toView(ctx, result.row) }
}

// "SSO required"

export interface SsoPolicy {
  ssoRequired: boolean
  breakGlassUserId: string | null
}

export async function getSsoPolicy(ctx: Ctx, actor: Actor, orgId: string): Promise<SsoPolicy> {
  guard(ctx, actor, orgId)
  const s = await sso.findSettings(ctx.db, orgId)
  return { ssoRequired: s.sso_required, breakGlassUserId: s.break_glass_user_id }
}

/**
 * Turning "SSO required" on needs, first, a verified domain for it to apply to, an enabled connection that
 * passed its test, and a break-glass owner (an active owner of the org who keeps password sign-in, should
 * the IdP fail): SSO_NOT_READY names what is missing.
 */
export async function putSsoPolicy(
  ctx: Ctx,
  actor: Actor,
  meta: RequestMeta,
  orgId: string,
  input: SsoPolicy,
) {
  const { result } = await write(ctx, actor, meta, orgId, async (work) => {
    guard(ctx, actor, orgId)
    const before = await sso.findSettings(work.tx, orgId)
    if (input.breakGlassUserId !== null) {
      const owners = await members.activeOwnerIds(work.tx, orgId, ctx.model.org.ownerRoles)
      if (!owners.has(input.breakGlassUserId))
        throw new OrgkitError(
          'VALIDATION_FAILED',
          'the break-glass account must be an owner of this organization',
          {
            field: 'breakGlassUserId',
          },
        )
    }
    if (input.ssoRequired) {
      if ((await orgDomains.listVerifiedForOrg(work.tx, orgId)).length === 0)
        throw notReady(
          'verified_domain',
          'verify a domain first: SSO is required for the people of its domains',
        )
      if (!(await sso.enabledConnections(work.tx, orgId)).some((c) => c.tested_at !== null))
        throw notReady('tested_connection', 'enable a connection whose test passed first')
      if (input.breakGlassUserId === null)
        throw notReady(
          'break_glass_owner',
          'name a break-glass owner who keeps password sign-in, in case the IdP fails',
        )
    }
    const after = await sso.putSettings(work.tx, orgId, input, new Date(ctx.clock()))
    const policy = { ssoRequired: after.sso_required, breakGlassUserId: after.break_glass_user_id }
    work.audit({
      orgId,
      action: 'sso.policy_updated',
      targetType: 'org',
      targetId: orgId,
      before: { ssoRequired: before.sso_required, breakGlassUserId: before.break_glass_user_id },
      after: policy,
    })
    return policy
  })
  return result
}

const notReady = (missing: string, message: string) => new OrgkitError('SSO_NOT_READY', message, { missing })

/** With "SSO required" on, a change must leave an enabled, tested connection: turn it off first. */
async function assertStillReady(tx: Tx, orgId: string) {
  if (!(await sso.findSettings(tx, orgId)).sso_required) return
  if ((await sso.enabledConnections(tx, orgId)).some((c) => c.tested_at !== null)) return
  throw notReady(
    'tested_connection',
    'SSO is required here: this would leave no enabled, tested connection — turn "SSO required" off first',
  )
}
