import { type ChainHead, type Db, orgChainHeads } from '@orgkit/store'
import type { Logger } from 'pino'
import { enqueue } from './outbox.ts'
import type { WebhookWorker } from './worker.ts'

/** The webhook event type of a checkpoint; `*`, `audit.*` or the type itself subscribe to it. */
export const CHECKPOINT_EVENT = 'audit.checkpoint'

export interface Checkpoint extends ChainHead {
  orgId: string
  /** When the checkpoint was taken (ISO 8601). */
  at: string
}

/**
 * Checkpoints of each org's audit head (issue 22.4), kept outside the database: every org whose head moved
 * since this instance's last checkpoint gets an `audit.checkpoint` event `{orgId, seq, hash, at}` for its
 * webhooks (through the outbox: signed at delivery like every event) and a log line. A receiver that keeps
 * them can later pass one to verify (`?seq=&hash=`) to detect a cut or rewritten tail.
 *
 * What was last checkpointed is kept in memory: after a restart, or with several instances, a head may be
 * checkpointed again — the same seq and hash, harmless to a receiver (deduplicate on orgId and seq).
 */
export class AuditCheckpoints {
  private readonly last = new Map<string, string>()
  private timer: NodeJS.Timeout | null = null
  private running: Promise<Checkpoint[]> | null = null

  constructor(
    private readonly db: Db,
    private readonly clock: () => number,
    private readonly logger: Logger,
    private readonly worker: WebhookWorker,
  ) {}

  /** One pass; answers the checkpoints it took. */
  runOnce(): Promise<Checkpoint[]> {
    this.running ??= this.pass().finally(() => {
      this.running = null
    })
    return this.running
  }

  private async pass(): Promise<Checkpoint[]> {
    const now = new Date(this.clock())
    const taken: Checkpoint[] = []
    let events = false
    for (const head of await orgChainHeads(this.db)) {
      const key = `${head.seq}:${head.hash}`
      if (this.last.get(head.orgId) === key) continue
      const checkpoint: Checkpoint = {
        orgId: head.orgId,
        seq: head.seq,
        hash: head.hash,
        at: now.toISOString(),
      }
      if (
        await this.db
          .transaction()
          .execute((tx) => enqueue(tx, head.orgId, CHECKPOINT_EVENT, now, checkpoint))
      )
        events = true
      this.logger.info({ auditCheckpoint: checkpoint }, 'audit checkpoint')
      this.last.set(head.orgId, key)
      taken.push(checkpoint)
    }
    if (events) void this.worker.runOnce().catch(() => 0)
    return taken
  }

  start(intervalMs: number): void {
    if (this.timer || intervalMs <= 0) return
    this.timer = setInterval(
      () => void this.runOnce().catch((err) => this.logger.error({ err }, 'audit checkpoint pass failed')),
      intervalMs,
    )
    this.timer.unref()
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
    await this.running?.catch(() => [])
  }
}
