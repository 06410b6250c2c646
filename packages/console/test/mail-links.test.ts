import { describe, expect, it } from 'vitest'
import { mailParts } from '../src/pages/Outbox/mail-links.ts'

describe("the local outbox's links", () => {
  it('end before the sentence`s punctuation, and keep a URL`s own', () => {
    const text =
      'Sign in at http://127.0.0.1:3456/login, or reset it (http://127.0.0.1:3456/forgot-password). ' +
      'Verify: http://127.0.0.1:3456/verify?token=a.b_c-d&x=1.\nDone'
    expect(mailParts(text)).toEqual([
      { text: 'Sign in at ' },
      { text: 'http://127.0.0.1:3456/login', url: 'http://127.0.0.1:3456/login' },
      { text: ', or reset it (' },
      { text: 'http://127.0.0.1:3456/forgot-password', url: 'http://127.0.0.1:3456/forgot-password' },
      { text: '). Verify: ' },
      {
        text: 'http://127.0.0.1:3456/verify?token=a.b_c-d&x=1',
        url: 'http://127.0.0.1:3456/verify?token=a.b_c-d&x=1',
      },
      { text: '.\nDone' },
    ])
    expect(mailParts('no link here')).toEqual([{ text: 'no link here' }])
  })
})
