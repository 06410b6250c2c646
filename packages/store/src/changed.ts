import type { Change } from '@orgkit/core'

/**
 * What a repository write returns: its value and the engine changes it implies. A service never writes
 * an engine change by hand: it passes the result to `work.apply`, which records the changes with the
 * transaction and hands back the value, so a write and its change can't part (issue 18).
 */
export interface Changed<T> {
  readonly value: T
  readonly changes: readonly Change[]
}

export const changed = <T>(value: T, changes: readonly Change[]): Changed<T> => ({ value, changes })
/** A write whose only result is its changes. */
export const changes = (...list: Change[]): Changed<void> => ({ value: undefined, changes: list })
