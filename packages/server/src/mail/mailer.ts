import { randomUUID } from 'node:crypto'
import { type Db, mailOutbox, type Tx } from '@orgkit/store'
import type { Transporter } from 'nodemailer'
import type { Logger } from 'pino'
import type { SecretBox } from '../security/secret-box.ts'
import { mailContext } from '../security/secrets-at-rest.ts'

export interface MailMessage {
  to: string
  subject: string
  text: string
  html?: string
}

export class MailSender {
  /** nodemailer's transport, made on the first mail sent: a server without SMTP never loads nodemailer. */
  private made: Promise<Transporter> | null = null
  private running: Promise<void> | null = null
  private again = false
  private timer: NodeJS.Timeout | null = null

  constructor(
    private readonly db: Db,
    private readonly smtpUrl: string | undefined,
    private readonly from: string,
    private readonly logger: Logger,
    private readonly box: SecretBox,
    /** The server's clock: a mail is due, claimed, sent and retried by it. */
    private readonly clock: () => number,
  ) {}

  private transport(): Promise<Transporter> {
    this.made ??= import('nodemailer').then(({ default: nodemailer }) =>
      nodemailer.createTransport(this.smtpUrl),
    )
    return this.made
  }

  /**
   * Queues a mail in the write's own transaction (an invitation and its mail commit together), to be
   * delivered over SMTP; without SMTP the queue is the local outbox the console shows. Its bodies hold live
   * links (invitations, resets, verifications): they are stored sealed (issue 22.7), opened only to send or
   * to show to whoever may read the outbox.
   */
  async queue(tx: Tx, message: MailMessage): Promise<string> {
    const id = randomUUID()
    await mailOutbox.insertMail(tx, {
      id,
      recipient: message.to,
      subject: message.subject,
      text: this.box.seal(message.text, mailContext(id)),
      html: message.html ? this.box.seal(message.html, mailContext(id)) : null,
      now: new Date(this.clock()),
    })
    return id
  }

  /** A queued mail's bodies in plain text (a sent mail's are blank). */
  open(mail: { id: string; text_body: string; html_body: string | null }): {
    text: string
    html: string | null
  } {
    const open = (body: string) => (body ? this.box.open(body, mailContext(mail.id)).value : body)
    return { text: open(mail.text_body), html: mail.html_body ? open(mail.html_body) : null }
  }

  get configured(): boolean {
    return Boolean(this.smtpUrl)
  }

  /** Sends what is queued; several instances share the queue without sending a mail twice. */
  deliver(): Promise<void> {
    if (!this.configured) return Promise.resolve()
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

  /**
   * Claims due mail in a short transaction (SKIP LOCKED: instances share the queue), sends it outside any
   * transaction, and records the outcome. A failure backs off (30 s doubling, up to 6 h; ten tries) instead
   * of blocking the mail behind it. A sent mail's body is blanked: its links are secrets.
   */
  private async drain(): Promise<void> {
    for (;;) {
      const now = new Date(this.clock())
      const claimed = await mailOutbox.claimDue(this.db, now, new Date(now.getTime() + 60_000), 10)
      if (claimed.length === 0) return
      for (const row of claimed) {
        try {
          const bodies = this.open(row)
          await (await this.transport()).sendMail({
            from: this.from,
            to: row.recipient,
            subject: row.subject,
            text: bodies.text,
            ...(bodies.html && { html: bodies.html }),
          })
          await mailOutbox.markSent(this.db, row.id, new Date(this.clock()))
        } catch (error) {
          const attempts = row.attempts + 1
          const delay = Math.min(30_000 * 2 ** (attempts - 1), 6 * 3_600_000)
          this.logger.warn({ err: error, mail: row.id, attempts }, 'mail delivery failed; will retry')
          await mailOutbox.markFailed(this.db, row.id, {
            attempts,
            error: String(error),
            nextAttemptAt: new Date(attempts >= 10 ? 8.64e15 : this.clock() + delay),
          })
        }
      }
    }
  }

  /** Retries what failed, every `ms`. */
  start(ms = 30_000): void {
    if (!this.configured || this.timer) return
    this.timer = setInterval(() => void this.deliver(), ms)
    this.timer.unref()
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    await this.running
    const transport = await this.made?.catch(() => null)
    transport?.close()
  }
}
