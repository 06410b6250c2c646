import { describe, expect, it } from 'vitest'
import { useCapgoServer } from './support/fixtures.ts'
import { DATABASES } from './support/harness.ts'

/** `X-Orgkit-User`: a platform token acting as one of the product's users, known from the engine. */
describe.each(DATABASES)('acting as a user (%s)', (database) => {
  const { s, w } = useCapgoServer(database)

  const ask = (actAs: string) =>
    s.as(actAs).post('/v1/check', { permission: 'app.upload_bundle', resource: { type: 'app', id: w.appId } })

  it('is that user, whichever way the id is written, and nobody else', async () => {
    expect((await ask(w.users.appUploader)).body.allowed).toBe(true)
    expect((await ask(w.users.appReader)).body.allowed).toBe(false)
    // Capitals are the same UUID (the database says so); the answer is the same user's.
    const upper = await ask(w.users.appUploader.toUpperCase())
    expect([upper.status, upper.body.allowed]).toEqual([200, true])
    for (const stranger of [
      '00000000-0000-4000-8000-000000000000',
      'not-a-user',
      `${w.users.appUploader}x`,
    ]) {
      const refused = await ask(stranger)
      expect([refused.status, refused.body.code]).toEqual([401, 'UNAUTHENTICATED'])
    }
  })

  it('sees a user provisioned a moment ago', async () => {
    const made = await s.platform.post('/v1/users', { email: 'fresh@example.com', name: 'Fresh' })
    const asked = await ask(made.body.id)
    expect([asked.status, asked.body.allowed]).toEqual([200, false])
    // And acting as them is acting as them: they may read their own profile.
    expect((await s.as(made.body.id).get('/v1/me')).body.id).toBe(made.body.id)
  })
})
