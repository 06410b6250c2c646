import { randomUUID } from 'node:crypto'
import { OrgkitError } from '@orgkit/core'
import { users } from '@orgkit/store'
import { type Actor, type Ctx, isPlatform, type RequestMeta, write } from './context.ts'

export interface UserView {
  id: string
  email: string
  name: string
  mfaEnabled: boolean
  createdAt: string
}

const toView = (row: {
  id: string
  email: string
  name: string
  mfa_enabled: boolean
  created_at: Date
}): UserView => ({
  id: row.id,
  email: row.email,
  name: row.name,
  mfaEnabled: row.mfa_enabled,
  createdAt: row.created_at.toISOString(),
})

/** Provisions a user (platform tokens only: the host product owns its users until accounts land). */
export async function createUser(
  ctx: Ctx,
  actor: Actor,
  meta: RequestMeta,
  input: { email: string; name: string },
) {
  if (!isPlatform(actor)) throw new OrgkitError('PLATFORM_ONLY', 'only a platform token provisions users')
  return write(ctx, actor, meta, null, async (work) => {
    if (await users.findUserIdByEmail(work.tx, input.email.toLowerCase()))
      throw new OrgkitError('EMAIL_TAKEN', 'a user with this email exists', { field: 'email' })
    const row = work.apply(
      await users.insertUser(work.tx, { id: randomUUID(), email: input.email, name: input.name }),
    )
    work.audit({
      orgId: null,
      action: 'user.created',
      targetType: 'user',
      targetId: row.id,
      after: { email: row.email, name: row.name },
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
