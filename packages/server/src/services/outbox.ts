import { OrgkitError } from '@orgkit/core'
import { mailOutbox } from '@orgkit/store'
import type { Actor, Ctx } from './context.ts'

/**
 * The mail outbox, newest first: for the host product (platform token), or for a local instance's console
 * (`local`: no SMTP, loopback only — security/local-outbox.ts), since it holds other people's links.
 */
export async function listOutbox(ctx: Ctx, actor: Actor | undefined, local: boolean) {
  if (actor?.kind !== 'platform' && !local)
    throw new OrgkitError('PLATFORM_ONLY', 'the outbox holds other people’s links: platform tokens only')
  const rows = await mailOutbox.listRecent(ctx.db, 200)
  const items = rows.map((r) => ({
    id: r.id,
    to: r.recipient,
    subject: r.subject,
    text: readable(ctx, r),
    createdAt: r.created_at.toISOString(),
    sentAt: r.sent_at?.toISOString() ?? null,
  }))
  return { smtp: ctx.mail.configured, items }
}

/** A mail's text, opened (its body is sealed at rest); one sealed with a key this server lacks says so. */
function readable(ctx: Ctx, mail: { id: string; text_body: string; html_body: string | null }): string {
  try {
    return ctx.mail.open(mail).text
  } catch {
    return '[sealed with a key this server does not hold: see ORGKIT_SECRET_KEY]'
  }
}
