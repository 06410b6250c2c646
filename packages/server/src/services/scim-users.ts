import { randomUUID } from 'node:crypto'
import { OrgkitError } from '@orgkit/core'
import { scim, type Tx, users } from '@orgkit/store'
import { invalid } from '../scim/protocol.ts'
import type { Ctx, DirectoryActor, RequestMeta, Work } from './context.ts'
import { write } from './context.ts'
import { endAccess, grantAccess } from './scim-access.ts'

/**
 * A directory's users (issue 21.3). A SCIM user is the directory's record of a person in its org, mapped to
 * one global Orgkit user by email: an account that has the email is linked, else one is made (no password:
 * they sign in through the org's SSO, or set one by a password reset). The account's own email and name
 * are the person's and are never changed by a directory (the person may be in other orgs); the SCIM record
 * keeps what the directory says. `active` is the membership: provisioned active, the person joins through
 * `joinOrg` with the org's default role; deactivated, every access to the org ends at once (scim-access.ts).
 */
export interface ScimUserInput {
  userName: string
  externalId: string | null
  active: boolean
  /** Every other attribute the directory sent (name, displayName, emails, the enterprise extension…). */
  attributes: Record<string, unknown>
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/

/** The person's email: the primary one, else a work one, else the first, else the userName. */
export function emailOf(input: ScimUserInput): string {
  const emails = Array.isArray(input.attributes.emails)
    ? (input.attributes.emails as { value?: unknown; primary?: unknown; type?: unknown }[]).filter(
        (e) => typeof e?.value === 'string',
      )
    : []
  const chosen =
    emails.find((e) => e.primary === true || e.primary === 'True' || e.primary === 'true') ??
    emails.find((e) => e.type === 'work') ??
    emails[0]
  const email = ((chosen?.value as string | undefined) ?? input.userName).trim()
  if (!EMAIL.test(email) || email.length > 320)
    throw invalid('invalidValue', 'a user needs an email: userName or emails[].value', { field: 'userName' })
  return email
}

/** The name an account made for the person starts with. */
function displayNameOf(input: ScimUserInput): string {
  const a = input.attributes
  const name = (a.name ?? {}) as { formatted?: unknown; givenName?: unknown; familyName?: unknown }
  const given = [name.givenName, name.familyName].filter((p) => typeof p === 'string' && p).join(' ')
  const candidates = [a.displayName, name.formatted, given, input.userName]
  return (candidates.find((c) => typeof c === 'string' && c.trim()) as string).trim().slice(0, 200)
}

const summary = (row: scim.ScimUserRow) => ({
  id: row.id,
  userName: row.user_name,
  externalId: row.external_id,
  userId: row.user_id,
  active: row.active,
})

async function found(tx: Tx | Ctx['db'], orgId: string, id: string) {
  const row = await scim.findUser(tx, orgId, id)
  if (!row) throw new OrgkitError('SCIM_RESOURCE_NOT_FOUND', 'no such user', { id })
  return row
}

async function assertUserNameFree(tx: Tx, orgId: string, userName: string, self: string | null) {
  const other = await scim.findUserByUserName(tx, orgId, userName)
  if (other && other.id !== self)
    throw new OrgkitError('SCIM_UNIQUENESS', 'this directory already has a user with this userName', {
      scimType: 'uniqueness',
      id: other.id,
    })
}

export async function provisionUser(ctx: Ctx, dir: DirectoryActor, meta: RequestMeta, input: ScimUserInput) {
  const email = emailOf(input)
  const outcome = await write(ctx, dir, meta, dir.orgId, async (work) => {
    const { tx } = work
    await assertUserNameFree(tx, dir.orgId, input.userName, null)
    let userId = await users.findUserIdByEmail(tx, email.toLowerCase())
    if (userId === undefined) {
      userId = work.apply(
        await users.insertUser(tx, { id: randomUUID(), email, name: displayNameOf(input) }),
      ).id
    } else if (await scim.findUserByUserId(tx, dir.orgId, userId)) {
      throw new OrgkitError('SCIM_UNIQUENESS', 'this directory already has a user with this email', {
        scimType: 'uniqueness',
      })
    }
    const row = await scim.insertUser(tx, {
      id: randomUUID(),
      orgId: dir.orgId,
      userId,
      userName: input.userName,
      externalId: input.externalId,
      attributes: input.attributes,
      now: new Date(ctx.clock()),
    })
    if (input.active) await grantAccess(work, ctx, dir.orgId, row)
    const after = { ...summary(row), active: input.active }
    work.audit({
      orgId: dir.orgId,
      action: 'scim.user.provisioned',
      targetType: 'scim_user',
      targetId: row.id,
      after,
    })
    return row.id
  })
  return found(ctx.db, dir.orgId, outcome.result)
}

export const getUser = (ctx: Ctx, dir: DirectoryActor, id: string) => found(ctx.db, dir.orgId, id)

export const listUsers = (ctx: Ctx, dir: DirectoryActor, filter: scim.ScimFilter | null, page: scim.Page) =>
  scim.listUsers(ctx.db, dir.orgId, filter, page)

/**
 * PUT (and PATCH, once its operations are applied to the current resource): what the directory says of the
 * user now. A change of `active` ends or restores the person's access in the same write.
 */
export async function replaceUser(
  ctx: Ctx,
  dir: DirectoryActor,
  meta: RequestMeta,
  id: string,
  next: ScimUserInput | ((current: ScimUserInput) => ScimUserInput),
) {
  await write(ctx, dir, meta, dir.orgId, async (work) => {
    const before = await found(work.tx, dir.orgId, id)
    const input =
      typeof next === 'function'
        ? next({
            userName: before.user_name,
            externalId: before.external_id,
            active: before.active,
            attributes: before.attributes as Record<string, unknown>,
          })
        : next
    emailOf(input) // still names a person
    await assertUserNameFree(work.tx, dir.orgId, input.userName, id)
    const now = new Date(ctx.clock())
    const row = await scim.updateUser(work.tx, dir.orgId, id, input, now)
    if (sameRecord(before, input)) return setActive(work, ctx, dir, row, input.active)
    work.audit({
      orgId: dir.orgId,
      action: 'scim.user.updated',
      targetType: 'scim_user',
      targetId: id,
      before: summary(before),
      after: summary(row),
    })
    await setActive(work, ctx, dir, row, input.active)
  })
  return found(ctx.db, dir.orgId, id)
}

/** JSON with sorted keys: jsonb hands keys back in its own order. */
const stable = (value: unknown): string =>
  Array.isArray(value)
    ? `[${value.map(stable).join(',')}]`
    : typeof value === 'object' && value !== null
      ? `{${Object.keys(value)
          .sort()
          .map((k) => `${JSON.stringify(k)}:${stable((value as Record<string, unknown>)[k])}`)
          .join(',')}}`
      : JSON.stringify(value)

/** Does the directory say the same of the user as before (`active` aside)? */
const sameRecord = (before: scim.ScimUserRow, input: ScimUserInput) =>
  before.user_name === input.userName &&
  before.external_id === input.externalId &&
  stable(before.attributes) === stable(input.attributes)

async function setActive(work: Work, ctx: Ctx, dir: DirectoryActor, row: scim.ScimUserRow, active: boolean) {
  if (row.active === active) return
  if (active) await grantAccess(work, ctx, dir.orgId, row)
  else await endAccess(work, ctx, dir, dir.orgId, row)
  work.audit({
    orgId: dir.orgId,
    action: active ? 'scim.user.reactivated' : 'scim.user.deactivated',
    targetType: 'scim_user',
    targetId: row.id,
    after: { ...summary(row), active },
  })
}

/**
 * DELETE: the person's access to the org ends as on deactivation and the directory forgets them. Their
 * Orgkit account stays (it is theirs, and may be in other orgs).
 */
export async function deleteUser(ctx: Ctx, dir: DirectoryActor, meta: RequestMeta, id: string) {
  await write(ctx, dir, meta, dir.orgId, async (work) => {
    const row = await found(work.tx, dir.orgId, id)
    if (row.active) await endAccess(work, ctx, dir, dir.orgId, row)
    await scim.deleteUser(work.tx, dir.orgId, id)
    work.audit({
      orgId: dir.orgId,
      action: 'scim.user.deleted',
      targetType: 'scim_user',
      targetId: id,
      before: summary(row),
    })
  })
}
