import pino from 'pino'
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../src/config.ts'
import { answerError } from '../src/errors.ts'

describe('loadConfig', () => {
  it('takes an smtp:// or smtps:// URL and refuses anything else at start (the transport is made on first send)', () => {
    for (const url of ['smtp://127.0.0.1:2525', 'smtps://user:pass@mail.example.com:465'])
      expect(loadConfig({ ORGKIT_SMTP_URL: url }).smtpUrl).toBe(url)
    expect(loadConfig({ ORGKIT_SMTP_URL: '' }).smtpUrl).toBeUndefined()
    for (const url of ['notaurl', 'http://mail.example.com', 'smtp://', 'mail.example.com:25'])
      expect(() => loadConfig({ ORGKIT_SMTP_URL: url })).toThrow(/ORGKIT_SMTP_URL must be smtp:/)
  })

  it('prepares statements on PostgreSQL unless ORGKIT_DATABASE_PREPARE is off, and refuses another value', () => {
    expect(loadConfig({}).databasePrepare).toBe(true)
    expect(loadConfig({ ORGKIT_DATABASE_PREPARE: 'off' }).databasePrepare).toBe(false)
    expect(() => loadConfig({ ORGKIT_DATABASE_PREPARE: 'no' })).toThrow(/ORGKIT_DATABASE_PREPARE must be/)
    expect(loadConfig({ ORGKIT_ENGINE_STATE: 'off' }).engineState).toBe(false)
    expect(() => loadConfig({ ORGKIT_ENGINE_STATE: 'yes' })).toThrow(
      /ORGKIT_ENGINE_STATE must be "on" or "off"/,
    )
  })
})

describe('answerError', () => {
  it('answers a stale prepared plan (a migration under a running instance) 503 SCHEMA_CHANGED, to try again', () => {
    // PostgreSQL's error as pg reports it, its message translated (lc_messages): the routine names it.
    const stale = Object.assign(new Error('gecachter Plan darf den Ergebnistyp nicht ändern'), {
      code: '0A000',
      routine: 'RevalidateCachedQuery',
    })
    const answer = answerError(stale, 'r1', pino({ level: 'silent' }))
    expect(answer.status).toBe(503)
    expect(JSON.parse(answer.body)).toMatchObject({ code: 'SCHEMA_CHANGED', requestId: 'r1' })
    const other = Object.assign(new Error('feature not supported'), { code: '0A000' })
    expect(answerError(other, 'r2', pino({ level: 'silent' })).status).toBe(500)
  })
})
