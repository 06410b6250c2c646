import { type Db, webhookDeliveries, webhooks } from '@orgkit/store'
import type { Logger } from 'pino'
import { Webhook } from 'standardwebhooks'
import type { SecretBox } from '../security/secret-box.ts'
import { webhookContext } from '../security/secrets-at-rest.ts'
import { assertReceiver, lazyReceiverAgent, undici } from './ssrf.ts'

/** Seconds before each retry: about 32 hours in all (SPEC 4: "over hours"; the issue: at least 24). */
export const RETRY_SCHEDULE = [5, 30, 120, 600, 1800, 3600, 7200, 14_400, 28_800, 28_800, 28_800]

export interface WorkerOptions {
  allowPrivate: boolean
  timeoutMs?: number
  /** How long a claimed delivery stays ours; a crashed instance's claims expire and are retried. */
  lockSeconds?: number
  batch?: number
  random?: () => number
}

/**
 * Delivers webhook events from the outbox. Claims are an UPDATE … FOR UPDATE SKIP LOCKED, so any number of
 * instances share the work without sending an attempt twice; the HTTP call runs outside any transaction.
 * Each event keeps its id across retries (the Standard Webhooks `webhook-id`): receivers deduplicate on it.
 */
export class WebhookWorker {
  private timer: NodeJS.Timeout | null = null
  private running: Promise<number> | null = null
  private readonly agent: ReturnType<typeof lazyReceiverAgent>

  constructor(
    private readonly db: Db,
    private readonly box: SecretBox,
    private readonly clock: () => number,
    private readonly logger: Logger,
    private readonly options: WorkerOptions,
  ) {
    this.agent = lazyReceiverAgent(options.allowPrivate)
  }

  /** One pass: claim what is due, send it, record the outcome. Answers how many attempts were made. */
  runOnce(): Promise<number> {
    this.running ??= this.pass().finally(() => {
      this.running = null
    })
    return this.running
  }

  private async pass(): Promise<number> {
    let total = 0
    for (;;) {
      const claimed = await this.claim()
      if (claimed.length === 0) return total
      await Promise.all(claimed.map((d) => this.attempt(d)))
      total += claimed.length
    }
  }

  private claim(): Promise<webhookDeliveries.ClaimedDelivery[]> {
    return webhookDeliveries.claimDue(this.db, {
      now: new Date(this.clock()),
      lockedUntil: new Date(this.clock() + (this.options.lockSeconds ?? 60) * 1000),
      limit: this.options.batch ?? 20,
    })
  }

  private async attempt(delivery: webhookDeliveries.ClaimedDelivery): Promise<void> {
    const hook = await webhooks.findWebhookById(this.db, delivery.webhook_id)
    const event = await webhookDeliveries.findEvent(this.db, delivery.event_id)
    if (!hook || !event) return
    const attempt = delivery.attempts + 1
    const started = performance.now()
    let status: number | null = null
    let error: string | null = null
    let excerpt: string | null = null
    if (!hook.enabled) {
      error = 'the endpoint is disabled'
    } else {
      try {
        const url = await assertReceiver(hook.url, this.options.allowPrivate)
        const body = JSON.stringify(event.payload)
        // The wall clock, not the injected one: the receiver checks it against its own (Standard Webhooks).
        const timestamp = new Date()
        const signature = signingSecrets(this.box, hook, new Date(this.clock()))
          .map((secret) => new Webhook(secret).sign(event.id, timestamp, body))
          .join(' ')
        const { fetch } = await undici()
        const response = await fetch(url, {
          dispatcher: await this.agent.get(),
          method: 'POST',
          redirect: 'manual', // a redirect is an answer, never followed (it could point inside our network)
          signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
          headers: {
            'content-type': 'application/json',
            'user-agent': 'Orgkit-Webhooks/1',
            'webhook-id': event.id,
            'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
            'webhook-signature': signature,
          },
          body,
        })
        status = response.status
        excerpt = (await response.text().catch(() => '')).slice(0, 500)
      } catch (e) {
        error = e instanceof Error ? e.message : String(e)
      }
    }
    const duration = Math.round(performance.now() - started)
    const ok = status !== null && status >= 200 && status < 300
    const gone = status === 410
    const exhausted = attempt > RETRY_SCHEDULE.length
    const delay = RETRY_SCHEDULE[Math.min(attempt - 1, RETRY_SCHEDULE.length - 1)]! * 1000
    const jitter = 0.8 + 0.4 * (this.options.random ?? Math.random)()
    await this.db.transaction().execute(async (tx) => {
      await webhookDeliveries.insertAttempt(tx, {
        deliveryId: delivery.id,
        attempt,
        status,
        error,
        durationMs: duration,
        responseExcerpt: excerpt,
      })
      await webhookDeliveries.recordOutcome(tx, delivery.id, {
        attempts: attempt,
        status: ok ? 'succeeded' : gone || exhausted || !hook.enabled ? 'failed' : 'pending',
        nextAttemptAt: new Date(this.clock() + delay * jitter),
        lastStatus: status,
        lastError: error,
        lastDurationMs: duration,
        responseExcerpt: excerpt,
        deliveredAt: ok ? new Date(this.clock()) : null,
      })
      // 410 Gone: the receiver asks us to stop (Standard Webhooks): disable the endpoint.
      if (gone) await webhooks.disableWebhook(tx, hook.id, 'the receiver answered 410 Gone')
    })
    if (!ok) this.logger.debug({ delivery: delivery.id, attempt, status, error }, 'webhook attempt failed')
  }

  start(intervalMs = 1000): void {
    if (this.timer) return
    this.timer = setInterval(
      () => void this.runOnce().catch((e) => this.logger.error({ err: e }, 'webhook pass failed')),
      intervalMs,
    )
    this.timer.unref()
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
    await this.running?.catch(() => 0)
    await this.agent.close()
  }
}

/**
 * The secrets a delivery is signed with: the endpoint's, and the one a rotation replaced until it expires
 * (Standard Webhooks: space-separated signatures, the receiver accepts any that verifies). Both are stored
 * sealed to the endpoint (services/webhooks.ts): one copied from another endpoint's row does not open, and
 * the attempt fails saying so, the secret nowhere in the message.
 */
function signingSecrets(box: SecretBox, hook: webhooks.WebhookRow, now: Date): string[] {
  const open = (stored: string) => {
    try {
      return box.open(stored, webhookContext(hook.id)).value
    } catch {
      throw new Error("the endpoint's signing secret does not open with ORGKIT_SECRET_KEY")
    }
  }
  const previous = hook.previous_secret_expires_at && hook.previous_secret_expires_at > now
  return previous && hook.previous_secret
    ? [open(hook.secret), open(hook.previous_secret)]
    : [open(hook.secret)]
}
