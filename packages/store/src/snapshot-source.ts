import type { Db, Executor } from './database.ts'

// Imports nothing of @orgkit/core: connect.ts uses it, and the tests' global setup loads connect.ts by path,
// without the source condition that resolves the packages to their sources (a fresh clone has no dist/).

/** PostgreSQL stores: the pool of their own that a reload asked for within a write reads through. */
const besideWrites = new WeakMap<Db, Db>()
const besidePools = new WeakSet<Executor>()

/** Whether `db` is a pool `readSnapshotsBeside` gave (its reads set a lock timeout: `streamSnapshot`). */
export const isBesidePool = (db: Executor) => besidePools.has(db)

/** Makes `db`'s reloads within its transactions read through `beside` (openStore, PostgreSQL only). */
export function readSnapshotsBeside(db: Db, beside: Db): void {
  besideWrites.set(db, beside)
  besidePools.add(beside)
}

/**
 * Where a reload asked for `within` a transaction on `db` (a write's catch-up, under its org's lock) reads
 * its rows, for `streamSnapshot`: its revision and every table must be one snapshot, and the write's
 * transaction is READ COMMITTED (its checks must see what committed before its lock), where each statement
 * sees the latest commits — another org's write committing between two of the reads would make the rows
 * newer than the revision they are loaded as, and one table newer than another (a binding on a resource
 * the engine was never given: the load throws). So on PostgreSQL the reload reads in a repeatable-read
 * transaction of its own, on a pool of its own (`readSnapshotsBeside`): it starts after the lock is held,
 * so it sees every write to the org before this one; plain reads wait on no lock the write holds; and the
 * write's connection is never waited for, nor one of the main pool, which writes queued on the same org's
 * lock may all hold. It does not see what the write has written itself, which is not committed and must not
 * be in the engine. On PGlite (one connection, held by the write) the write's transaction is where it
 * reads: no other transaction can commit before it ends, so its statements see one state, and a read
 * beside it would wait for it for ever. Outside a transaction, `within` (`streamSnapshot` opens its own).
 */
export function snapshotSource(db: Db, within: Executor): Executor {
  return within.isTransaction ? (besideWrites.get(db) ?? within) : within
}
