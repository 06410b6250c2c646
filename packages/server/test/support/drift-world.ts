import { createHmac } from 'node:crypto'
import type { Id, Model, Subject, Target } from '@orgkit/core'
import { currentRevision, type Db } from '@orgkit/store'
import { type Client, client, type Reply, type TestServer } from './harness.ts'

export interface DriftUser {
  id: Id
  email: string
  password: string | null
  recoveryCodes: string[]
}
export interface DriftKey {
  id: Id
  secret: string
  ownerId: Id
}
export interface DriftResource {
  id: Id
  orgId: Id
  type: string
}
export interface DriftGroup {
  id: Id
  orgId: Id
}
export interface DriftInvitation {
  id: Id
  orgId: Id
  email: string
  token: string
}

/** An id nobody holds: a write naming it must be refused. */
export const MISSING = '00000000-0000-4000-8000-00000000dead'

/** Who sends a request: a client (platform token, acting as a user, an API key, or nobody) and a name for the log. */
export interface Caller {
  client: Pick<Client, 'request'>
  label: string
}
const outboxToken = /(ok[ir]_[\w-]+)/

/**
 * The state of one run of the drift test: a test server shared by every run (starting one takes seconds),
 * and the entities this run made in it. Runs never reach each other's entities, so each run is its own
 * world inside the shared database. Entities stay listed after they are deleted: later writes that name
 * them must be refused.
 */
export class DriftWorld {
  readonly users: DriftUser[] = []
  readonly orgs: Id[] = []
  readonly resources: DriftResource[] = []
  readonly groups: DriftGroup[] = []
  readonly keys: DriftKey[] = []
  readonly invitations: DriftInvitation[] = []
  /** Ids to readable names (`u2`, `org1`, `app3`), for the log and the diff. */
  readonly names = new Map<Id, string>()
  readonly log: string[] = []
  /** The custom roles this run defined, by org, with their scope (to pick permissions an edit may hold). */
  readonly customRoles = new Map<Id, Map<string, string>>()
  private emails = 0
  private readonly counts = new Map<string, number>()

  constructor(
    readonly server: TestServer,
    readonly model: Model,
    /** Moves the server's clock forward. */
    readonly advance: (ms: number) => void,
    readonly run: number,
  ) {}

  /** Names an entity the run made (`u2`, `org1`, `app3`, in the order they were made) and answers its id. */
  track(id: Id, kind: string): Id {
    if (!this.names.has(id)) {
      const n = this.counts.get(kind) ?? 0
      this.counts.set(kind, n + 1)
      this.names.set(id, `${kind}${n}`)
    }
    return id
  }

  newEmail(): string {
    return `r${this.run}-${++this.emails}@drift.test`
  }

  /** The nth entity of a list (modulo its length); undefined for an empty list or a negative pick. */
  pick<T>(list: readonly T[], n: number): T | undefined {
    return list.length === 0 || n < 0 ? undefined : list[n % list.length]
  }

  /** `platform`, `uN` (the nth user, acting through the platform token) or `kN` (the nth API key's secret). */
  actor(pick: string): Caller {
    const { server } = this
    const n = Number(pick.slice(1))
    if (pick.startsWith('u')) {
      const user = this.pick(this.users, n)
      if (user) return { client: server.as(user.id), label: this.names.get(user.id)! }
    }
    if (pick.startsWith('k')) {
      const key = this.pick(this.keys, n)
      if (key) return { client: client(server.url, key.secret), label: this.names.get(key.id)! }
    }
    return { client: server.platform, label: 'platform' }
  }

  /**
   * Sends a write and logs it. Whatever the answer: no 5xx; a refused write records no change (its
   * transaction rolled back); and once a write has answered, this instance's engine has applied what it
   * committed (`write()` waits for it: the caller's next check sees its own write). `compound`: one request
   * of several writes (sign-up with an invitation), where a refusal may come after a committed first write.
   */
  async send(who: Caller, method: string, path: string, body?: unknown, compound = false): Promise<Reply> {
    const db = this.server.store.db
    const before = await currentRevision(db)
    const reply = await who.client.request(method, path, body)
    const after = await currentRevision(db)
    const code = reply.status >= 400 ? ` ${reply.body?.code ?? ''}` : ''
    const shown = JSON.stringify(body ?? '', (key, value) => (key === 'captcha' ? '…' : value))
    this.log.push(`${who.label} ${method} ${this.named(path)} ${this.named(shown)} → ${reply.status}${code}`)
    if (reply.status >= 500)
      throw new Error(`server error on a write:\n${this.transcript()}\n${JSON.stringify(reply.body)}`)
    if (reply.status >= 400 && after !== before && !compound) {
      throw new Error(
        `a refused write recorded changes (revision ${before} → ${after}):\n${this.transcript()}`,
      )
    }
    if (this.server.ctx.engine.revision < after) {
      throw new Error(
        `a write answered before the engine applied it (revision ${after}, engine at ${this.server.ctx.engine.revision}):\n${this.transcript()}`,
      )
    }
    return reply
  }

  /** A request without credentials (sign-up, e-mail verification). */
  async anonymous(path: string, body: unknown, compound = false): Promise<Reply> {
    const request = async (method: string, p: string, b?: unknown): Promise<Reply> => {
      const response = await fetch(this.server.url + p, {
        method,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(b ?? {}),
      })
      const text = await response.text()
      return { status: response.status, body: text ? JSON.parse(text) : null }
    }
    return this.send({ client: { request }, label: 'anonymous' }, 'POST', path, body, compound)
  }

  /** The token of the newest mail to `email` holding a link of this kind (the local outbox, as a console reads it). */
  async mailToken(email: string, link: 'invitations/' | 'verify?token='): Promise<string | null> {
    const outbox = await this.server.platform.get('/v1/outbox')
    for (const mail of outbox.body.items as { to: string; text: string }[]) {
      if (mail.to !== email || !mail.text.includes(link)) continue
      return outboxToken.exec(mail.text.slice(mail.text.indexOf(link)))?.[1] ?? null
    }
    return null
  }

  /** The code an authenticator shows now, on the server's clock (RFC 6238: SHA-1, 6 digits, 30 s). */
  totp(base32: string): string {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
    let bits = ''
    for (const ch of base32.replace(/=+$/, '')) bits += alphabet.indexOf(ch).toString(2).padStart(5, '0')
    const key = Buffer.from(bits.match(/.{8}/g)!.map((b) => Number.parseInt(b, 2)))
    const counter = Buffer.alloc(8)
    counter.writeBigUInt64BE(BigInt(Math.floor(this.server.ctx.clock() / 30_000)))
    const mac = createHmac('sha1', key).update(counter).digest()
    const offset = mac[mac.length - 1]! & 0xf
    return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0')
  }

  note(line: string): void {
    this.log.push(line)
  }

  /** Every subject and target this run made, deleted ones included. */
  scope(): { subjects: Subject[]; targets: Target[] } {
    return {
      subjects: [
        ...this.users.map((u): Subject => ({ type: 'user', id: u.id })),
        ...this.keys.map((k): Subject => ({ type: 'apiKey', id: k.id })),
      ],
      targets: [
        ...this.orgs.map((id): Target => ({ type: 'org', id })),
        ...this.resources.map((r): Target => ({ type: r.type, id: r.id })),
      ],
    }
  }

  transcript(): string {
    return this.log.map((line, i) => `  ${String(i + 1).padStart(3)}. ${line}`).join('\n')
  }

  private named(text: string): string {
    return text.replace(
      /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g,
      (id) => this.names.get(id) ?? (id === MISSING ? 'missing' : `?${id.slice(0, 8)}`),
    )
  }
}

/** The ids of the rows the engine is made of, by table: what a run made is what appears in between. */
export async function rowIds(db: Db) {
  const ids = async (table: 'users' | 'orgs' | 'api_keys') =>
    new Set((await db.selectFrom(table).select('id').execute()).map((r) => r.id))
  const resources = await db.selectFrom('resources').select(['id', 'type']).execute()
  return {
    users: await ids('users'),
    orgs: await ids('orgs'),
    apiKeys: await ids('api_keys'),
    resources: new Map(resources.map((r) => [r.id, r.type])),
  }
}
