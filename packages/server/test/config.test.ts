import { describe, expect, it } from 'vitest'
import { loadConfig } from '../src/config.ts'

describe('loadConfig', () => {
  it('takes an smtp:// or smtps:// URL and refuses anything else at start (the transport is made on first send)', () => {
    for (const url of ['smtp://127.0.0.1:2525', 'smtps://user:pass@mail.example.com:465'])
      expect(loadConfig({ ORGKIT_SMTP_URL: url }).smtpUrl).toBe(url)
    expect(loadConfig({ ORGKIT_SMTP_URL: '' }).smtpUrl).toBeUndefined()
    for (const url of ['notaurl', 'http://mail.example.com', 'smtp://', 'mail.example.com:25'])
      expect(() => loadConfig({ ORGKIT_SMTP_URL: url })).toThrow(/ORGKIT_SMTP_URL must be smtp:/)
  })
})
