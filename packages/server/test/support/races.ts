/**
 * How many times a race test races on `database`: `onPostgres` times on PostgreSQL, 2 on PGlite
 * (fewer if `onPostgres` is fewer); ORGKIT_CONCURRENCY_ROUNDS, when set, on both.
 *
 * Only on PostgreSQL can a race go wrong: its requests run on separate connections at once. PGlite is
 * one connection, so a race's requests never overlap inside the database: with the org lock removed, 60
 * PGlite runs of the race tests found no failure, while on PostgreSQL every race test failed within its
 * first 3 races (docs/performance.md). More rounds on PGlite prove nothing; two still check the outcome
 * (exactly one winner, the loser's code) on the embedded database.
 */
export function raceRounds(database: 'pglite' | 'postgres', onPostgres: number): number {
  const set = process.env.ORGKIT_CONCURRENCY_ROUNDS
  if (set) return Number(set)
  return database === 'postgres' ? onPostgres : Math.min(2, onPostgres)
}
