import { createHmac, randomBytes } from 'node:crypto'
import type { Change } from '@orgkit/core'
import { sql } from 'kysely'
import { describe, expect, it } from 'vitest'
import { changesSince, currentRevision, type FeedMac, recordChanges, remacChanges } from '../src/index.ts'
import { testFeedMac } from './support/feed-mac.ts'
import { TARGETS, useStore } from './support/targets.ts'

/**
 * The change feed's MAC (migration 0022): written by the database in the statement that logs an entry,
 * verified by `changesSince` in Node, so that an entry rewritten, moved to another revision or stripped of
 * its MAC by someone without the key is refused, and nothing after it is read.
 */
describe.each(TARGETS)('change feed MAC (%s)', (kind) => {
  const handle = useStore(kind)
  const db = () => handle.store.db

  const record = (changes: Change[], mac: FeedMac) =>
    db()
      .transaction()
      .execute((tx) => recordChanges(tx, changes, mac))
  const user = (id: string): Change => ({ op: 'user.put', user: { id, mfaEnabled: false } })
  const row = async (revision: number) =>
    (
      await sql<{ text: string; mac_kid: string | null; mac: Uint8Array | null }>`
        select changes::text as text, mac_kid, mac from change_log where revision = ${String(revision)}`.execute(
        db(),
      )
    ).rows[0]!

  it('MACs an entry in the statement that logs it, as node:crypto does over its revision and stored text', async () => {
    const key = randomBytes(32)
    const mac = testFeedMac({ k1: key })
    // Text the database prints otherwise than JSON.stringify wrote it: escapes, non-ASCII, key order, numbers.
    const odd = { orgId: 'z', op: 'org.delete', n: 1e21 } as unknown as Change
    const changes = [user('é 😀 "quoted" \\ back\\slash \u0001'), odd]
    const revision = await record(changes, mac)
    const stored = await row(revision)
    expect(stored.mac_kid).toBe('k1')
    const want = createHmac('sha256', key).update(`${revision}:${stored.text}`, 'utf8').digest()
    expect(Buffer.from(stored.mac!).equals(want)).toBe(true)
    expect(await changesSince(db(), revision - 1, mac)).toEqual([{ revision, changes }])
  })

  it('refuses an entry rewritten, moved from another revision, stripped or under an unknown key; reads nothing after it', async () => {
    const mac = testFeedMac()
    const start = await currentRevision(db())
    const first = await record([user('first')], mac)
    const second = await record([user('second')], mac)
    const third = await record([user('third')], mac)
    const refusedAt = async (reason: string) =>
      expect(await changesSince(db(), start, mac)).toEqual([
        { revision: first, changes: [user('first')] },
        { revision: second, refused: reason },
      ])
    const setSecond = (set: ReturnType<typeof sql>) =>
      sql`update change_log set ${set} where revision = ${String(second)}`.execute(db())
    const original = await row(second)
    const restore = () =>
      setSecond(sql`changes = ${original.text}::jsonb, mac_kid = ${original.mac_kid}, mac = ${original.mac}`)
    expect((await changesSince(db(), start, mac)).map((e) => e.revision)).toEqual([first, second, third])

    // Its changes rewritten, the MAC kept.
    await setSecond(sql`changes = ${JSON.stringify([user('someone else')])}::jsonb`)
    await refusedAt('mac')
    // Another revision's entry copied over it whole, MAC and all: valid there, not here.
    await restore()
    await sql`update change_log set (changes, mac_kid, mac) = (select changes, mac_kid, mac from change_log
      where revision = ${String(first)}) where revision = ${String(second)}`.execute(db())
    await refusedAt('mac')
    // Its MAC blanked, as on an entry from before migration 0022.
    await restore()
    await setSecond(sql`mac = null`)
    await refusedAt('unsigned')
    // Its key id one the reader does not hold.
    await restore()
    await setSecond(sql`mac_kid = 'unknown'`)
    await refusedAt('key')
    await restore()
    expect((await changesSince(db(), start, mac)).map((e) => e.revision)).toEqual([first, second, third])
  })

  // Regression: a MAC says nothing of an entry that is not there, and readers skipped a deleted one (a gap)
  // or stopped short of the head (the tail) — a revoke deleted from the feed stayed granted.
  it('reads a revision deleted from the middle or the tail as `missing`, and nothing after it', async () => {
    const mac = testFeedMac()
    const start = await currentRevision(db())
    const first = await record([user('first')], mac)
    const second = await record([user('second')], mac)
    const third = await record([user('third')], mac)
    const entry = (revision: number, id: string) => ({ revision, changes: [user(id)] })
    const moved = async (revision: number, read: () => Promise<void>) => {
      await sql`update change_log set revision = -revision where revision = ${String(revision)}`.execute(db())
      try {
        await read()
      } finally {
        await sql`update change_log set revision = -revision where revision = ${String(-revision)}`.execute(
          db(),
        )
      }
    }
    await moved(second, async () => {
      expect(await changesSince(db(), start, mac)).toEqual([
        entry(first, 'first'),
        { revision: second, refused: 'missing' },
      ])
    })
    await moved(third, async () => {
      // The revision row, read in the same statement, says the feed goes on to `third`.
      expect(await changesSince(db(), start, mac)).toEqual([
        entry(first, 'first'),
        entry(second, 'second'),
        { revision: third, refused: 'missing' },
      ])
      // A full page says nothing of what follows it; the next read does.
      expect(await changesSince(db(), start, mac, 2)).toEqual([
        entry(first, 'first'),
        entry(second, 'second'),
      ])
      expect(await changesSince(db(), second, mac)).toEqual([{ revision: third, refused: 'missing' }])
    })
    expect(await changesSince(db(), start, mac)).toEqual([
      entry(first, 'first'),
      entry(second, 'second'),
      entry(third, 'third'),
    ])
    expect(await changesSince(db(), third, mac)).toEqual([])
  })

  it('re-MACs under the current key every entry an older held key verifies, and no other', async () => {
    const old = randomBytes(32)
    const before = testFeedMac({ old })
    const start = await currentRevision(db())
    const kept = await record([user('kept')], before)
    const forged = await record([user('forged')], before)
    await sql`update change_log set changes = ${JSON.stringify([user('planted')])}::jsonb
      where revision = ${String(forged)}`.execute(db())
    const next = randomBytes(32)
    // Entries of the earlier tests are under keys this keyring lacks: left alone too.
    expect(await remacChanges(db(), testFeedMac({ next, old }))).toBe(1)
    expect((await row(kept)).mac_kid).toBe('next')
    expect((await row(forged)).mac_kid).toBe('old')
    // Once re-MACed, the old key can go: the entry still verifies; the forged one is still refused.
    expect(await changesSince(db(), start, testFeedMac({ next }))).toEqual([
      { revision: kept, changes: [user('kept')] },
      { revision: forged, refused: 'key' },
    ])
  })
})
