import { randomUUID } from 'node:crypto'
import type { Db, Tx } from '@orgkit/store'
import nodemailer, { type Transporter } from 'nodemailer'
import type { Logger } from 'pino'

export interface MailMessage {
  to: string
  subject: string
  text: string
  html?: string
}

/**
 * Mail is queued in the write's own transaction (an invitation and its mail commit together), then
 * delivered over SMTP. Without SMTP the queue is the local outbox the console shows.
 */
export async function queueMail(tx: Tx, message: MailMessage): Promise<string> {
  const id = randomUUID()
  await tx
    .insertInto('mail_outbox')
    .values({
      id,
      recipient: message.to,
      subject: message.subject,
      text_body: message.text,
      html_body: message.html ?? null,
      sent_at: null,
      error: null,
    })
    .execute()
  return id
}

export class MailSender {
  private readonly transport: Transporter | null
  private running: Promise<void> | null = null
  private again = false
  private timer: NodeJS.Timeout | null = null

  constructor(
    private readonly db: Db,
    smtpUrl: string | undefined,
    private readonly from: string,
    private readonly logger: Logger,
  ) {
    this.transport = smtpUrl ? nodemailer.createTransport(smtpUrl) : null
  }

  get configured(): boolean {
    return this.transport !== null
  }

  /** Sends what is queued; several instances share the queue without sending a mail twice. */
  deliver(): Promise<void> {
    if (!this.transport) return Promise.resolve()
    // A mail queued while a pass runs may have missed it: ask for one more pass rather than a new one.
    this.again = true
    this.running ??= (async () => {
      while (this.again) {
        this.again = false
        await this.drain()
      }
    })().finally(() => {
      this.running = null
    })
    return this.running
  }

  private async drain(): Promise<void> {
    for (;;) {
      const sent = await this.db.transaction().execute(async (tx) => {
        const row = await tx
          .selectFrom('mail_outbox')
          .selectAll()
          .where('sent_at', 'is', null)
          .orderBy('created_at')
          .limit(1)
          .forUpdate()
          .skipLocked()
          .executeTakeFirst()
        if (!row) return false
        try {
          await this.transport!.sendMail({
            from: this.from,
            to: row.recipient,
            subject: row.subject,
            text: row.text_body,
            ...(row.html_body && { html: row.html_body }),
          })
          await tx
            .updateTable('mail_outbox')
            .set({ sent_at: new Date(), error: null })
            .where('id', '=', row.id)
            .execute()
          return true
        } catch (error) {
          this.logger.warn({ err: error, mail: row.id }, 'mail delivery failed; will retry')
          await tx
            .updateTable('mail_outbox')
            .set({ error: String(error) })
            .where('id', '=', row.id)
            .execute()
          return false
        }
      })
      if (!sent) return
    }
  }

  /** Retries what failed, every `ms`. */
  start(ms = 30_000): void {
    if (!this.transport || this.timer) return
    this.timer = setInterval(() => void this.deliver(), ms)
    this.timer.unref()
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    await this.running
    this.transport?.close()
  }
}
