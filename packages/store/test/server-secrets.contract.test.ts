import { describe, expect, it } from 'vitest'
import { openStore, ping, serverSecrets } from '../src/index.ts'
import { TARGETS, useStore } from './support/targets.ts'

describe.each(TARGETS)('server secrets repository (%s)', (kind) => {
  const handle = useStore(kind)
  const db = () => handle.store.db

  it('keeps the first secret offered under a name; later offers read it back', async () => {
    expect(await serverSecrets.sharedSecret(db(), 'captcha', 'first')).toBe('first')
    expect(await serverSecrets.sharedSecret(db(), 'captcha', 'second')).toBe('first')
    expect(await serverSecrets.sharedSecret(db(), 'other', 'third')).toBe('third')
    const rows = await db().selectFrom('server_secrets').selectAll().orderBy('name').execute()
    expect(rows).toEqual([
      { name: 'captcha', value: 'first' },
      { name: 'other', value: 'third' },
    ])
  })

  it('gives instances starting together one secret', async () => {
    const got = await Promise.all(
      Array.from({ length: 8 }, (_, i) => serverSecrets.sharedSecret(db(), 'together', `candidate-${i}`)),
    )
    expect(new Set(got).size).toBe(1)
  })

  it('answers a ping when the database answers, and throws when it can’t be reached', async () => {
    await expect(ping(db())).resolves.toBeUndefined()
    // Nothing listens on port 1: the pool connects lazily, so the ping is what fails.
    const unreachable = await openStore({ url: 'postgres://orgkit@127.0.0.1:1/none' })
    await expect(ping(unreachable.db)).rejects.toThrow()
    await unreachable.close()
  })
})
