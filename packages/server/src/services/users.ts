import { randomUUID } from 'node:crypto'
import { OrgkitError } from '@orgkit/core'
import { users } from '@orgkit/store'
import { type Actor, type Ctx, isPlatform, type RequestMeta, writeUsers } from './context.ts'

export interface UserView {
  id: string
  email: string
  name: string
  mfaEnabled: boolean
  /** The host product's id for the user (a host token's `sub`), or null. */
  externalId: string | null
  createdAt: string
}

export const toView = (row: users.UserRow): UserView => ({
  id: row.id,
  email: row.email,
  name: row.name,
  mfaEnabled: row.mfa_enabled,
  externalId: row.external_id,
  createdAt: row.created_at.toISOString(),
})

export function assertPlatform(actor: Actor, what: string): void {
  if (!isPlatform(actor)) throw new OrgkitError('PLATFORM_ONLY', `only a platform token ${what}`)
}

/**
 * EMAIL_TAKEN, telling the platform (the only caller of these use cases) which user has the email, so
 * a host that provisions twice learns the id it needs instead of a bare 409.
 */
export const emailTaken = (userId: string) =>
  new OrgkitError('EMAIL_TAKEN', 'a user with this email exists', { field: 'email', userId })

export const externalIdTaken = (userId: string) =>
  new OrgkitError('EXTERNAL_ID_TAKEN', 'a user with this externalId exists', { field: 'externalId', userId })

/** Provisions a user (platform tokens only), optionally with the host's id for them. */
export async function createUser(
  ctx: Ctx,
  actor: Actor,
  meta: RequestMeta,
  input: { email: string; name: string; externalId?: string | undefined },
) {
  assertPlatform(actor, 'provisions users')
  return writeUsers(ctx, actor, meta, async (work) => {
    const row = work.apply(
      await users.insertUserUnlessTaken(work.tx, {
        id: randomUUID(),
        email: input.email,
        name: input.name,
        externalId: input.externalId ?? null,
      }),
    )
    if (!row) {
      // Taken: say by whom, the email first.
      const byEmail = await users.findUserIdByEmail(work.tx, input.email.toLowerCase())
      if (byEmail) throw emailTaken(byEmail)
      const byExternalId =
        input.externalId !== undefined
          ? await users.findUserIdByExternalId(work.tx, input.externalId)
          : undefined
      if (byExternalId) throw externalIdTaken(byExternalId)
      throw new OrgkitError('ALREADY_EXISTS', 'this user exists', {})
    }
    work.audit({
      orgId: null,
      action: 'user.created',
      targetType: 'user',
      targetId: row.id,
      after: { email: row.email, name: row.name, externalId: row.external_id ?? undefined },
    })
    return toView(row)
  })
}

export async function me(ctx: Ctx, actor: Actor): Promise<UserView | { platform: true; tokenId: string }> {
  if (actor.kind === 'platform') return { platform: true, tokenId: actor.tokenId }
  const row = await users.findUser(ctx.db, actor.userId)
  if (!row) throw new OrgkitError('UNAUTHENTICATED', 'no such user')
  return toView(row)
}
