import { timingSafeEqual } from 'node:crypto'
import type { Change } from '@orgkit/core'
import { type RawBuilder, sql } from 'kysely'
import type { Db, Executor, Tx } from './database.ts'

/**
 * The change feed: each write that changes authorization appends its `Change`s under the next revision, in
 * its own transaction. Bumping the one revision row takes its lock until commit, so revisions commit in
 * order: a reader that has seen revision N has seen everything before it.
 *
 * Authenticated (migration 0022): an entry carries an HMAC-SHA-256 over its revision and its changes as
 * stored, under a key derived from the server's keyring, so that whoever can write the database but does not
 * hold ORGKIT_SECRET_KEY cannot rewrite an entry, or move one to another revision, for an engine catching up
 * to apply. `changesSince` hands back only entries that verify.
 */
export const CHANGES_CHANNEL = 'orgkit_changes'

/**
 * HMAC-SHA-256 under the server's keyring (server/src/security/change-feed-mac.ts derives a key of its own
 * per keyring key). The store holds no key: it only says what is MACed, and compares.
 */
export interface FeedMac {
  /** The id of the key an entry written now is MACed with (the keyring's current one). */
  readonly current: string
  /**
   * The current key's two padded blocks (RFC 2104: K ⊕ ipad, K ⊕ opad), with which the database MACs an
   * entry in the statement that writes it: the revision is only known there, and a write gets no extra
   * round trip (issue 25.3).
   */
  readonly pads: { readonly inner: Uint8Array; readonly outer: Uint8Array }
  /** The MAC of `message` under key `kid`, or null when the keyring does not hold that key. */
  mac(kid: string, message: Uint8Array): Uint8Array | null
}

/**
 * An entry of the feed as read: its changes, or why it was refused — no MAC (written before migration 0022,
 * or by a version without it, or blanked), a key the keyring does not hold, a MAC that does not verify, or
 * no entry at all where the feed must hold one (`missing`: deleted, from the middle or from the tail).
 */
export type FeedRead =
  | { revision: number; changes: Change[] }
  | { revision: number; refused: 'unsigned' | 'key' | 'mac' | 'missing' }

/**
 * What an entry's MAC is over: its revision in decimal, ':', its changes as the database prints the stored
 * jsonb (`changes::text`), so the reader verifies the very text it parses. Here as the database computes it
 * (UTF-8, as `feedMessage` below); HMAC(K, m) = SHA-256(K ⊕ opad ‖ SHA-256(K ⊕ ipad ‖ m)) with PostgreSQL's
 * built-in sha256(), which PGlite has too.
 */
function macInSql(mac: FeedMac, revision: RawBuilder<unknown>, changes: RawBuilder<unknown>) {
  const message = sql`convert_to(${revision}::text || ':' || ${changes}::text, 'UTF8')`
  return sql<Uint8Array>`sha256(${mac.pads.outer}::bytea || sha256(${mac.pads.inner}::bytea || ${message}))`
}

const feedMessage = (revision: number | string, text: string) =>
  new TextEncoder().encode(`${revision}:${text}`)

/** Whether an entry's MAC is the one of its revision and text under its key. */
function verify(
  row: { revision: string; text: string; mac_kid: string | null; mac: Uint8Array | null },
  mac: FeedMac,
): true | 'unsigned' | 'key' | 'mac' {
  if (row.mac === null || row.mac_kid === null) return 'unsigned'
  const want = mac.mac(row.mac_kid, feedMessage(row.revision, row.text))
  if (want === null) return 'key'
  // Constant time: how much of a forged MAC matched must not show in how long the refusal took.
  return row.mac.length === want.length && timingSafeEqual(row.mac, want) ? true : 'mac'
}

export async function recordChanges(tx: Tx, changes: readonly Change[], mac: FeedMac): Promise<number> {
  // One statement, one round trip: bump the revision (its row lock orders commits), log the changes under
  // it with their MAC, and NOTIFY every instance listening (delivered at commit: they pull the feed at once,
  // not at the next poll). A data-modifying CTE runs exactly once, whether or not the outer query reads it.
  const { rows } = await sql<{ value: string }>`
    with ${feedAppend(changes, mac)}
    select value, ${feedNotify} from next
  `.execute(tx)
  if (rows.length !== 1) throw new Error('the revision row is missing')
  return Number(rows[0]!.value)
}

/**
 * `recordChanges` as common table expressions, for a statement that logs the changes beside something else
 * (the write's audit entry, audit.repository.ts): `next` holds the revision taken, and nothing is taken or
 * logged unless `when` holds. The statement selects `feedNotify` from `next`, as `recordChanges` does.
 */
export function feedAppend(changes: readonly Change[], mac: FeedMac, when: RawBuilder<unknown> = sql`true`) {
  return sql`next as (update revision set value = value + 1 where id = 1 and ${when} returning value),
      entry as (select value, ${JSON.stringify(changes)}::jsonb as changes from next),
      logged as (
        insert into change_log (revision, changes, mac_kid, mac)
        select value, changes, ${mac.current}, ${macInSql(mac, sql.ref('value'), sql.ref('changes'))} from entry
      )`
}

/** Tells the listening instances of the revision `next` took (delivered at commit). */
export const feedNotify = sql`pg_notify(${CHANGES_CHANNEL}, value::text)`

export async function currentRevision(db: Executor): Promise<number> {
  const row = await db.selectFrom('revision').select('value').where('id', '=', 1).executeTakeFirstOrThrow()
  return Number(row.value)
}

/**
 * The feed after `revision`, in order, at most `limit` entries, each verified: an entry that does not is
 * returned as a refusal and ends the read, since nothing after it may be applied by a reader that could
 * not apply it. What a refusal means is the caller's to decide (server engine-replica.ts, engine-feed.ts).
 *
 * A MAC says nothing of whether an entry is missing, so the feed's shape does: it has no gaps (one statement
 * takes the next revision under the revision row's lock and logs it) and it ends at the revision row, which
 * commits with it. The row is read in the same statement, so in the same snapshot as the entries: a revision
 * skipped, or a short read ending below the row, was deleted — `missing` at the first revision absent.
 */
export async function changesSince(
  db: Executor,
  revision: number,
  mac: FeedMac,
  limit = 1000,
): Promise<FeedRead[]> {
  // The revision row joined to the page, so a read with no entry still brings the head (one row of nulls).
  const { rows } = await sql<{
    head: string
    /** Null (and the rest with it) only in the row a read with no entry brings. */
    revision: string | null
    text: string
    mac_kid: string | null
    mac: Uint8Array | null
  }>`
    select head.value as head, entry.revision, entry.text, entry.mac_kid, entry.mac
    from revision as head
    left join lateral (
      select revision, changes::text as text, mac_kid, mac from change_log
      where revision > ${String(revision)} order by revision limit ${limit}
    ) as entry on true
    where head.id = 1
    order by entry.revision
  `.execute(db)
  const read: FeedRead[] = []
  let expected = revision + 1
  for (const row of rows) {
    if (row.revision === null) break
    const at = Number(row.revision)
    if (at !== expected) return [...read, { revision: expected, refused: 'missing' }]
    const verified = verify({ ...row, revision: row.revision }, mac)
    if (verified !== true) return [...read, { revision: at, refused: verified }]
    read.push({ revision: at, changes: JSON.parse(row.text) as Change[] })
    expected = at + 1
  }
  const head = Number(rows[0]?.head ?? revision)
  if (read.length < limit && expected <= head) read.push({ revision: expected, refused: 'missing' })
  return read
}

/** Entries re-MACed per transaction by `remacChanges`. */
const REMAC_PAGE = 1000

/**
 * `orgkit secrets rotate`: every entry MACed under an older key that the keyring still holds and that
 * verifies it, MACed anew under the current key, a page at a time (each in its own transaction, its rows
 * locked between the check and the update, so a row rewritten meanwhile is not the one re-MACed). Entries no
 * held key verifies are left as they are: refused wherever they are read. Returns how many were re-MACed.
 */
export async function remacChanges(db: Db, mac: FeedMac): Promise<number> {
  let after = '0'
  let remaced = 0
  for (;;) {
    const page = await db.transaction().execute(async (tx) => {
      const rows = await tx
        .selectFrom('change_log')
        .select(['revision', sql<string>`changes::text`.as('text'), 'mac_kid', 'mac'])
        .where('revision', '>', after)
        .where('mac_kid', '!=', mac.current)
        .orderBy('revision')
        .limit(REMAC_PAGE)
        .forUpdate()
        .execute()
      const verified = rows.filter((row) => verify(row, mac) === true).map((row) => row.revision)
      if (verified.length > 0)
        await tx
          .updateTable('change_log')
          .set({ mac_kid: mac.current, mac: macInSql(mac, sql.ref('revision'), sql.ref('changes')) })
          .where('revision', 'in', verified)
          .execute()
      return { last: rows.at(-1)?.revision, count: verified.length, full: rows.length === REMAC_PAGE }
    })
    remaced += page.count
    if (!page.full || page.last === undefined) return remaced
    after = page.last
  }
}
