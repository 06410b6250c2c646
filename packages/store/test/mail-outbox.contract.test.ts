import { randomUUID } from 'node:crypto'
import { sql } from 'kysely'
import { beforeEach, describe, expect, it } from 'vitest'
import { mailOutbox, type Tx } from '../src/index.ts'
import { TARGETS, useStore } from './support/targets.ts'

describe.each(TARGETS)('mail outbox repository (%s)', (kind) => {
  const handle = useStore(kind)
  const db = () => handle.store.db
  const inTx = <T>(fn: (tx: Tx) => Promise<T>) => db().transaction().execute(fn)
  /** Queues a mail created at `createdAt`, due at once (next_attempt_at as the table's default sets it). */
  const queue = async (subject: string, createdAt: Date) => {
    const id = randomUUID()
    await inTx((tx) =>
      mailOutbox.insertMail(tx, {
        id,
        recipient: `${subject}@example.com`,
        subject,
        text: `body of ${subject}`,
        html: null,
      }),
    )
    // created_at is the database's clock, never written by the repository: set by hand here.
    await sql`update mail_outbox set created_at = ${createdAt}, next_attempt_at = ${createdAt} where id = ${id}`.execute(
      db(),
    )
    return id
  }
  const row = (id: string) =>
    db().selectFrom('mail_outbox').selectAll().where('id', '=', id).executeTakeFirstOrThrow()
  const t = (minute: number) => new Date(Date.UTC(2030, 0, 1, 0, minute))
  const ids = (mails: { id: string }[]) => mails.map((m) => m.id).sort()

  // Each test starts with nothing due: what earlier tests queued counts as sent.
  beforeEach(async () => {
    await db()
      .updateTable('mail_outbox')
      .set({ sent_at: t(0) })
      .where('sent_at', 'is', null)
      .execute()
  })

  it('queues a mail with its bodies, unsent, and lists the latest first', async () => {
    const id = randomUUID()
    await inTx((tx) =>
      mailOutbox.insertMail(tx, {
        id,
        recipient: 'a@example.com',
        subject: 'Hi',
        text: 'plain',
        html: '<p>html</p>',
      }),
    )
    expect(await row(id)).toMatchObject({
      recipient: 'a@example.com',
      subject: 'Hi',
      text_body: 'plain',
      html_body: '<p>html</p>',
      sent_at: null,
      error: null,
      attempts: 0,
      locked_until: null,
    })
    const older = await queue('older', new Date('2000-01-01T00:00:00Z'))
    const recent = await mailOutbox.listRecent(db(), 200)
    expect(recent[0]?.id).toBe(id)
    expect(recent.map((m) => m.id)).toContain(older)
    expect(recent.at(-1)?.id).toBe(older)
    expect(await mailOutbox.listRecent(db(), 1)).toHaveLength(1)
  })

  it('claims due mail oldest first, up to the limit, and not again while the claim holds', async () => {
    const first = await queue('first', t(1))
    const second = await queue('second', t(2))
    const third = await queue('third', t(3))
    const later = await queue('later', t(30)) // not due at t(10)
    const claimed = await mailOutbox.claimDue(db(), t(10), t(11), 2)
    // The two oldest are claimed (returned in no particular order).
    expect(claimed.sort((a, b) => a.subject.localeCompare(b.subject))).toEqual([
      {
        id: first,
        recipient: 'first@example.com',
        subject: 'first',
        text_body: 'body of first',
        html_body: null,
        attempts: 0,
      },
      {
        id: second,
        recipient: 'second@example.com',
        subject: 'second',
        text_body: 'body of second',
        html_body: null,
        attempts: 0,
      },
    ])
    expect((await row(first)).locked_until).toEqual(t(11))
    expect(ids(await mailOutbox.claimDue(db(), t(10), t(11)))).toEqual([third])
    expect(await mailOutbox.claimDue(db(), t(10), t(11))).toEqual([])
    // A claim that outlived its lock (the instance died mid-send) is claimed again.
    expect(ids(await mailOutbox.claimDue(db(), t(12), t(13)))).toEqual([first, second, third].sort())
    // Once due, the later one is claimed too (beside the three whose claim lapsed again at t(13)).
    expect(ids(await mailOutbox.claimDue(db(), t(30), t(31)))).toEqual([first, second, third, later].sort())
  })

  it('blanks a sent mail, and backs a failed one off until its next attempt', async () => {
    const sent = await queue('sent', t(1))
    const failed = await queue('failed', t(2))
    await mailOutbox.claimDue(db(), t(5), t(6))
    await mailOutbox.markSent(db(), sent, t(5))
    await mailOutbox.markFailed(db(), failed, { attempts: 1, error: 'Error: bounced', nextAttemptAt: t(20) })
    expect(await row(sent)).toMatchObject({
      sent_at: t(5),
      error: null,
      locked_until: null,
      text_body: '',
      html_body: null,
    })
    expect(await row(failed)).toMatchObject({
      sent_at: null,
      attempts: 1,
      error: 'Error: bounced',
      locked_until: null,
      next_attempt_at: t(20),
      text_body: 'body of failed',
    })
    expect(await mailOutbox.claimDue(db(), t(19), t(21))).toEqual([])
    expect((await mailOutbox.claimDue(db(), t(20), t(21))).map((m) => [m.id, m.attempts])).toEqual([
      [failed, 1],
    ])
  })

  it('lists the bodies of unsent mail, and replaces them only while unchanged', async () => {
    const unsent = await queue('unsent', t(1))
    const sent = await queue('gone', t(2))
    await mailOutbox.markSent(db(), sent, t(3))
    const listed = await mailOutbox.listUnsentBodies(db())
    expect(listed.filter((m) => m.id === unsent || m.id === sent)).toEqual([
      { id: unsent, text_body: 'body of unsent', html_body: null },
    ])
    expect((await mailOutbox.listUnsentBodies(db(), 'body of')).some((m) => m.id === unsent)).toBe(false)
    expect((await mailOutbox.listUnsentBodies(db(), 'body_of')).some((m) => m.id === unsent)).toBe(true)
    const sealed = { text: 'ok1:k1:text', html: 'ok1:k1:html' }
    expect(await mailOutbox.replaceBodies(db(), unsent, 'something else', sealed)).toBe(false)
    expect((await row(unsent)).text_body).toBe('body of unsent')
    expect(await mailOutbox.replaceBodies(db(), unsent, 'body of unsent', sealed)).toBe(true)
    expect(await row(unsent)).toMatchObject({ text_body: 'ok1:k1:text', html_body: 'ok1:k1:html' })
  })

  it.runIf(kind === 'postgres')('never hands one mail to two concurrent claims (SKIP LOCKED)', async () => {
    const ids = new Set<string>()
    for (let i = 0; i < 40; i++) ids.add(await queue(`bulk-${i}`, t(1)))
    const claims = await Promise.all(
      Array.from({ length: 6 }, () => mailOutbox.claimDue(db(), t(5), t(6), 10)),
    )
    const claimed = claims.flat().map((m) => m.id)
    expect(new Set(claimed).size).toBe(claimed.length)
    expect(claimed.every((id) => ids.has(id))).toBe(true)
    expect(claimed.length).toBeLessThanOrEqual(40)
  })
})
