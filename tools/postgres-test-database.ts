import pg from 'pg'

/**
 * Vitest global setup: the test PostgreSQL (ORGKIT_TEST_DATABASE_URL) commits without waiting for its
 * write-ahead log to reach the disk (`synchronous_commit = off` for that database's new sessions). On this
 * VM a commit that waits for fdatasync took 4–6 ms, one that doesn't 0.35–0.5 ms (300 one-row transactions
 * each way, alternated): every write a test makes on PostgreSQL paid it, idle, while the embedded database
 * (fsync off) did not. What tests assert is unchanged: a commit is still atomic and visible to every
 * session at once; only a crash of the PostgreSQL server itself could lose the last commits, and no test
 * crashes it (crash.test.ts kills Orgkit, not PostgreSQL). The run's end resets it; a database the role may
 * not alter is left as it is.
 */
export default async function setup(): Promise<() => Promise<void>> {
  const url = process.env.ORGKIT_TEST_DATABASE_URL
  if (!url) return async () => {}
  await setSynchronousCommit(url, 'off')
  // Given back when the run ends, so a benchmark or anything else on that database commits durably again.
  return () => setSynchronousCommit(url, null)
}

async function setSynchronousCommit(url: string, value: 'off' | null): Promise<void> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const { rows } = await client.query<{ name: string }>('select current_database() as name')
    const database = `"${rows[0]!.name.replaceAll('"', '""')}"`
    await client.query(
      value === null
        ? `alter database ${database} reset synchronous_commit`
        : `alter database ${database} set synchronous_commit = ${value}`,
    )
  } catch (error) {
    console.warn(`test PostgreSQL: synchronous_commit left as it is (${(error as Error).message})`)
  } finally {
    await client.end()
  }
}
