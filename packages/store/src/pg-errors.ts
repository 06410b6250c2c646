import { OrgkitError } from '@orgkit/core'

/** SQLSTATE codes turned into the catalogue's errors; anything else is a bug and propagates. */
export function fromPgError(error: unknown, what = 'record'): never {
  const code = (error as { code?: unknown }).code
  if (code === '23505')
    throw new OrgkitError('ALREADY_EXISTS', `${what} already exists`, { constraint: constraintOf(error) })
  if (code === '23503')
    throw new OrgkitError('NOT_FOUND', `${what} refers to something that does not exist`, {
      constraint: constraintOf(error),
    })
  if (code === '23514' || code === '22001')
    throw new OrgkitError('VALIDATION_FAILED', `${what} is not valid`, { constraint: constraintOf(error) })
  throw error
}

const constraintOf = (error: unknown) => (error as { constraint?: string }).constraint ?? null

/** Runs a query, mapping constraint violations to catalogue errors. */
export async function mapPgErrors<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run()
  } catch (error) {
    return fromPgError(error, what)
  }
}
