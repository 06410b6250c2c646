import { randomUUID } from 'node:crypto'
import { isOrgkitError, OrgkitError } from '@orgkit/core'
import { users } from '@orgkit/store'
import type { HostIdentity } from '../security/host-tokens.ts'
import { type Actor, type Ctx, type RequestMeta, writeUsers } from './context.ts'
import { assertPlatform, emailTaken, toView, type UserView } from './users.ts'

/**
 * The host product's own users (issue 20): each is one Orgkit user whose `externalId` is the host's id for
 * them — a host token's `sub`, or the id a platform token gives. Found through a per-server cache (a check
 * acting as one costs no query), created just in time from a host token, or upserted by the platform.
 */

const MAX_CACHED = 10_000

/** The user the host knows by `externalId`, or undefined: the cache, checked against the engine, then the database. */
export async function userIdForExternalId(ctx: Ctx, externalId: string): Promise<string | undefined> {
  const cache = ctx.caches.externalUsers
  const hit = cache.get(externalId)
  // An external id never moves to another user; a cached one is good while its user exists.
  if (hit !== undefined && ctx.engine.authorizer.hasUser(hit)) return hit
  const found = await users.findUserIdByExternalId(ctx.db, externalId)
  if (found === undefined) {
    cache.delete(externalId)
    return undefined
  }
  // Made on another instance a moment ago: this engine learns of the user before it answers for them.
  if (!ctx.engine.authorizer.hasUser(found)) await ctx.engine.catchUp()
  remember(ctx, externalId, found)
  return found
}

function remember(ctx: Ctx, externalId: string, userId: string): void {
  const cache = ctx.caches.externalUsers
  if (cache.size >= MAX_CACHED) cache.clear() // bounded: a busy product's active users refill it
  cache.set(externalId, userId)
}

/**
 * The user a verified host token names: the one whose externalId is its `sub`; else, when it carries an
 * email, one made just in time — or the account that already has that email, linked, only when the token
 * says `email_verified: true` and the account has no other externalId. The write is the store's user
 * insert, through `work.apply`, so every instance's engine learns of the user with the same revision.
 */
export async function userForHostToken(ctx: Ctx, identity: HostIdentity, meta: RequestMeta): Promise<string> {
  const known = await userIdForExternalId(ctx, identity.externalId)
  if (known !== undefined) return known
  if (identity.email === null) {
    throw new OrgkitError(
      'JWT_USER_UNKNOWN',
      'no user has this token’s sub as externalId, and the token has no email to create one with',
      { claim: 'email' },
    )
  }
  try {
    const userId = await provision(ctx, identity, identity.email, meta)
    remember(ctx, identity.externalId, userId)
    return userId
  } catch (error) {
    // Two first requests of one person at once: the other made the user, and this one failed on a unique
    // index, or — when the other committed between this one's two lookups — saw the email taken. Either
    // way the user with this externalId now exists, and is the caller.
    if (!isOrgkitError(error)) throw error
    const made = await userIdForExternalId(ctx, identity.externalId)
    if (made === undefined) throw error
    return made
  }
}

async function provision(ctx: Ctx, identity: HostIdentity, email: string, meta: RequestMeta) {
  // The actor is the person the token names; their id is known once found or made, before any audit entry.
  const actor: Actor & { kind: 'user' } = { kind: 'user', userId: randomUUID(), via: 'hostToken' }
  const { result } = await writeUsers(ctx, actor, meta, async (work) => {
    const again = await users.findUserIdByExternalId(work.tx, identity.externalId)
    if (again !== undefined) return again
    const existing = await users.findUserIdByEmail(work.tx, email.toLowerCase())
    if (existing !== undefined) {
      if (!identity.emailVerified) {
        throw new OrgkitError(
          'JWT_EMAIL_TAKEN',
          'an account has this email; it is linked to the token only when the token says email_verified: true',
          { claim: 'email_verified', reason: 'email_not_verified' },
        )
      }
      const linked = work.apply(await users.linkExternalId(work.tx, existing, identity.externalId))
      if (linked === undefined) {
        throw new OrgkitError('JWT_EMAIL_TAKEN', 'the account with this email has another externalId', {
          claim: 'email',
          reason: 'linked_elsewhere',
        })
      }
      actor.userId = existing
      work.audit({
        orgId: null,
        action: 'user.linked',
        targetType: 'user',
        targetId: existing,
        after: { externalId: identity.externalId },
      })
      return existing
    }
    const row = work.apply(
      await users.insertUser(work.tx, {
        id: actor.userId,
        email,
        name: identity.name ?? (email.slice(0, email.indexOf('@')) || email),
        externalId: identity.externalId,
        // The issuer vouches for the address; without that, the user signs in only with host tokens anyway.
        emailVerifiedAt: identity.emailVerified ? new Date(ctx.clock()) : null,
      }),
    )
    work.audit({
      orgId: null,
      action: 'user.created',
      targetType: 'user',
      targetId: row.id,
      after: { email: row.email, name: row.name, externalId: row.external_id },
    })
    return row.id
  })
  return result
}

/** `GET /v1/users?externalId=&email=`: the platform looks its users up (each is unique: zero or one). */
export async function findUsers(
  ctx: Ctx,
  actor: Actor,
  query: { externalId?: string | undefined; email?: string | undefined },
): Promise<{ items: UserView[] }> {
  assertPlatform(actor, 'looks users up')
  if (query.externalId === undefined && query.email === undefined) {
    throw new OrgkitError('VALIDATION_FAILED', 'look users up by externalId or email', {
      field: 'externalId',
    })
  }
  const rows = await users.findUsers(ctx.db, {
    externalId: query.externalId,
    email: query.email?.toLowerCase(),
  })
  return { items: rows.map(toView) }
}

/**
 * `PUT /v1/users/external/{externalId}`: the user the host knows by this id, with this email and name —
 * made (created: true), or brought up to date. A user the host provisioned before it had ids (the same
 * email, no externalId) is linked rather than duplicated: the platform vouches for its own users, as a
 * token's `email_verified` does. An email another user holds is EMAIL_TAKEN with that user's id.
 */
export async function upsertExternalUser(
  ctx: Ctx,
  actor: Actor,
  meta: RequestMeta,
  externalId: string,
  input: { email: string; name: string },
): Promise<{ result: UserView & { created: boolean }; revision: number }> {
  assertPlatform(actor, 'provisions users')
  try {
    return await upsertOnce(ctx, actor, meta, externalId, input)
  } catch (error) {
    // Two upserts of one new user at once: the loser finds the winner's row on a second pass.
    if (!isOrgkitError(error, 'ALREADY_EXISTS')) throw error
    return upsertOnce(ctx, actor, meta, externalId, input)
  }
}

function upsertOnce(
  ctx: Ctx,
  actor: Actor,
  meta: RequestMeta,
  externalId: string,
  input: { email: string; name: string },
) {
  return writeUsers(ctx, actor, meta, async (work) => {
    const email = input.email.toLowerCase()
    let userId = await users.findUserIdByExternalId(work.tx, externalId)
    const byEmail = await users.findUserIdByEmail(work.tx, email)
    if (byEmail !== undefined && byEmail !== userId) {
      const other = await users.findUser(work.tx, byEmail)
      // The same email on a user the host has not named yet: that user is this one.
      if (userId !== undefined || other?.external_id !== null) throw emailTaken(byEmail)
      work.apply(await users.linkExternalId(work.tx, byEmail, externalId))
      work.audit({
        orgId: null,
        action: 'user.linked',
        targetType: 'user',
        targetId: byEmail,
        after: { externalId },
      })
      userId = byEmail
    }
    if (userId === undefined) {
      const row = work.apply(
        await users.insertUser(work.tx, {
          id: randomUUID(),
          email: input.email,
          name: input.name,
          externalId,
        }),
      )
      work.audit({
        orgId: null,
        action: 'user.created',
        targetType: 'user',
        targetId: row.id,
        after: { email: row.email, name: row.name, externalId },
      })
      return { ...toView(row), created: true }
    }
    const before = (await users.findUser(work.tx, userId))!
    if (before.email === input.email && before.name === input.name)
      return { ...toView(before), created: false }
    const row = work.apply(await users.updateProfile(work.tx, userId, input))
    work.audit({
      orgId: null,
      action: 'user.updated',
      targetType: 'user',
      targetId: userId,
      before: { email: before.email, name: before.name },
      after: { email: row.email, name: row.name },
    })
    return { ...toView(row), created: false }
  })
}
