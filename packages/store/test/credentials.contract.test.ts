import { randomUUID } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { credentials, type Tx, users } from '../src/index.ts'
import { TARGETS, useStore } from './support/targets.ts'

const at = (iso: string) => new Date(iso)

describe.each(TARGETS)('credentials repository (%s)', (kind) => {
  const handle = useStore(kind)
  const db = () => handle.store.db
  const inTx = <T>(fn: (tx: Tx) => Promise<T>) => db().transaction().execute(fn)
  const newUser = async (fields: { emailVerifiedAt?: Date | null } = {}) => {
    const id = randomUUID()
    await inTx((tx) =>
      users.insertUser(tx, {
        id,
        email: `Pat-${id}@Example.com`,
        name: 'Pat',
        passwordHash: 'hash-1',
        ...fields,
      }),
    )
    return id
  }
  const userRow = (id: string) =>
    db().selectFrom('users').selectAll().where('id', '=', id).executeTakeFirstOrThrow()

  it('finds the sign-in fields by email, case-insensitively, and nothing for an unknown email', async () => {
    const id = await newUser({ emailVerifiedAt: at('2030-01-01T00:00:00Z') })
    const found = await credentials.findLoginByEmail(db(), `pat-${id}@example.com`)
    expect(found).toEqual({
      id,
      password_hash: 'hash-1',
      email_verified_at: at('2030-01-01T00:00:00Z'),
      totp_enabled_at: null,
    })
    expect(await credentials.findLoginByEmail(db(), `nobody-${id}@example.com`)).toBeUndefined()
  })

  it('reads a user’s credentials, and throws for a user that does not exist', async () => {
    const id = await newUser()
    expect(await credentials.getCredentials(db(), id)).toEqual({
      id,
      email: `Pat-${id}@Example.com`,
      password_hash: 'hash-1',
      totp_enabled_at: null,
    })
    await expect(credentials.getCredentials(db(), randomUUID())).rejects.toThrow()
  })

  it('changes a password without touching sessions or verification', async () => {
    const id = await newUser()
    const before = await userRow(id)
    await inTx((tx) => credentials.setPassword(tx, id, 'hash-2', at('2030-02-01T00:00:00Z')))
    const row = await userRow(id)
    expect(row.password_hash).toBe('hash-2')
    expect(row.password_changed_at).toEqual(at('2030-02-01T00:00:00Z'))
    expect(row.sessions_valid_after).toEqual(before.sessions_valid_after)
    expect(row.email_verified_at).toBeNull()
  })

  it('resets a password: sessions end at that moment, and the email counts as verified from the first proof', async () => {
    const unverified = await newUser()
    const verified = await newUser({ emailVerifiedAt: at('2029-01-01T00:00:00Z') })
    const now = at('2030-03-01T00:00:00Z')
    await inTx(async (tx) => {
      await credentials.resetPassword(tx, unverified, 'hash-3', now)
      await credentials.resetPassword(tx, verified, 'hash-3', now)
    })
    for (const id of [unverified, verified]) {
      const row = await userRow(id)
      expect(row.password_hash).toBe('hash-3')
      expect(row.password_changed_at).toEqual(now)
      expect(row.sessions_valid_after).toEqual(now)
    }
    expect((await userRow(unverified)).email_verified_at).toEqual(now)
    expect((await userRow(verified)).email_verified_at).toEqual(at('2029-01-01T00:00:00Z'))
  })

  it('marks an email verified once: a later proof keeps the first time', async () => {
    const id = await newUser()
    await inTx((tx) => credentials.markEmailVerified(tx, id, at('2030-04-01T00:00:00Z')))
    await inTx((tx) => credentials.markEmailVerified(tx, id, at('2030-05-01T00:00:00Z')))
    expect((await userRow(id)).email_verified_at).toEqual(at('2030-04-01T00:00:00Z'))
  })

  describe.each([
    [
      'email verification',
      'email_verifications',
      credentials.insertEmailVerification,
      credentials.useEmailVerification,
      credentials.deleteEmailVerifications,
    ],
    [
      'password reset',
      'password_resets',
      credentials.insertPasswordReset,
      credentials.usePasswordReset,
      credentials.deletePasswordResets,
    ],
  ] as const)('%s links', (_, table, insert, use, remove) => {
    const expiresAt = at('2030-06-01T12:00:00Z')
    const before = at('2030-06-01T11:59:59Z')

    it('work once, for their user, until they expire', async () => {
      const id = await newUser()
      const hash = `link-${randomUUID()}`
      await inTx((tx) => insert(tx, { tokenHash: hash, userId: id, expiresAt }))
      // Expired (at and after the expiry), then unknown: refused, and the link stays unused.
      expect(await inTx((tx) => use(tx, hash, expiresAt))).toBeUndefined()
      expect(await inTx((tx) => use(tx, `other-${hash}`, before))).toBeUndefined()
      const row = await db()
        .selectFrom(table)
        .selectAll()
        .where('token_hash', '=', hash)
        .executeTakeFirstOrThrow()
      expect(row).toEqual({ token_hash: hash, user_id: id, expires_at: expiresAt, used_at: null })
      expect(await inTx((tx) => use(tx, hash, before))).toBe(id)
      expect(await inTx((tx) => use(tx, hash, before))).toBeUndefined()
      const used = await db()
        .selectFrom(table)
        .select('used_at')
        .where('token_hash', '=', hash)
        .executeTakeFirstOrThrow()
      expect(used.used_at).toEqual(before)
    })

    it('are deleted per user', async () => {
      const [a, b] = [await newUser(), await newUser()]
      await inTx(async (tx) => {
        await insert(tx, { tokenHash: `a1-${a}`, userId: a, expiresAt })
        await insert(tx, { tokenHash: `a2-${a}`, userId: a, expiresAt })
        await insert(tx, { tokenHash: `b1-${b}`, userId: b, expiresAt })
      })
      await inTx((tx) => remove(tx, a))
      const left = await db().selectFrom(table).select('user_id').where('user_id', 'in', [a, b]).execute()
      expect(left).toEqual([{ user_id: b }])
    })

    it.runIf(kind === 'postgres')('let exactly one of concurrent uses of one link through', async () => {
      const id = await newUser()
      const hash = `race-${randomUUID()}`
      await inTx((tx) => insert(tx, { tokenHash: hash, userId: id, expiresAt }))
      const answers = await Promise.all(Array.from({ length: 8 }, () => inTx((tx) => use(tx, hash, before))))
      expect(answers.filter((a) => a === id)).toHaveLength(1)
    })
  })

  it('lists stored TOTP secrets and replaces one only while it is unchanged', async () => {
    const id = await newUser()
    const none = await newUser()
    await inTx((tx) => credentials.startTotp(tx, id, 'ok1:k1:sealed'))
    const listed = await credentials.listTotpSecrets(db())
    expect(listed.filter((r) => r.id === id || r.id === none)).toEqual([{ id, totp_secret: 'ok1:k1:sealed' }])
    // Those under a prefix are left out; `_` in it is no wildcard.
    const but = (prefix: string) => credentials.listTotpSecrets(db(), prefix)
    expect((await but('ok1:k1:')).some((r) => r.id === id)).toBe(false)
    expect((await but('ok1:k_:')).some((r) => r.id === id)).toBe(true)
    expect(await credentials.replaceTotpSecret(db(), id, 'ok1:k0:stale', 'ok1:k2:new')).toBe(false)
    expect((await userRow(id)).totp_secret).toBe('ok1:k1:sealed')
    expect(await credentials.replaceTotpSecret(db(), id, 'ok1:k1:sealed', 'ok1:k2:new')).toBe(true)
    expect((await userRow(id)).totp_secret).toBe('ok1:k2:new')
  })

  it('starts, confirms and turns off TOTP, with the engine changes of 2FA', async () => {
    const id = await newUser()
    await db()
      .updateTable('users')
      .set({ compliant_password_policies: ['p1'] })
      .where('id', '=', id)
      .execute()
    await inTx((tx) => credentials.recordTotpStep(tx, id, 3))
    await inTx((tx) => credentials.startTotp(tx, id, 'SECRET'))
    let row = await userRow(id)
    expect([row.totp_secret, row.totp_last_step, row.totp_enabled_at, row.mfa_enabled]).toEqual([
      'SECRET',
      null,
      null,
      false,
    ])

    const now = at('2030-07-01T00:00:00Z')
    const enabled = await inTx((tx) => credentials.enableTotp(tx, id, 41, now))
    expect(enabled.changes).toEqual([
      { op: 'user.put', user: { id, mfaEnabled: true, compliantPasswordPolicies: ['p1'] } },
    ])
    row = await userRow(id)
    expect([row.totp_secret, row.totp_last_step, row.totp_enabled_at, row.mfa_enabled]).toEqual([
      'SECRET',
      '41',
      now,
      true,
    ])
    expect(await inTx((tx) => credentials.lockTotp(tx, id))).toEqual({
      totp_secret: 'SECRET',
      totp_enabled_at: now,
      totp_last_step: '41',
    })
    await inTx((tx) => credentials.recordTotpStep(tx, id, 42))
    expect((await userRow(id)).totp_last_step).toBe('42')

    const disabled = await inTx((tx) => credentials.disableTotp(tx, id))
    expect(disabled.changes).toEqual([
      { op: 'user.put', user: { id, mfaEnabled: false, compliantPasswordPolicies: ['p1'] } },
    ])
    row = await userRow(id)
    expect([row.totp_secret, row.totp_last_step, row.totp_enabled_at, row.mfa_enabled]).toEqual([
      null,
      null,
      null,
      false,
    ])
    await expect(inTx((tx) => credentials.lockTotp(tx, randomUUID()))).rejects.toThrow()
  })

  it.runIf(kind === 'postgres')(
    'locks the TOTP state: a second sign-in waits and sees the step the first used',
    async () => {
      const id = await newUser()
      await inTx((tx) => credentials.startTotp(tx, id, 'SECRET'))
      const events: string[] = []
      let release!: () => void
      const held = new Promise<void>((resolve) => {
        release = resolve
      })
      let locked!: () => void
      const first = new Promise<void>((resolve) => {
        locked = resolve
      })
      const one = inTx(async (tx) => {
        await credentials.lockTotp(tx, id)
        locked()
        await held
        await credentials.recordTotpStep(tx, id, 7)
        events.push('first committed')
      })
      await first
      const two = inTx(async (tx) => {
        const row = await credentials.lockTotp(tx, id)
        events.push(`second read ${row.totp_last_step}`)
      })
      await new Promise((resolve) => setTimeout(resolve, 150))
      expect(events).toEqual([])
      release()
      await Promise.all([one, two])
      expect(events).toEqual(['first committed', 'second read 7'])
    },
  )

  it('keeps only the latest recovery codes, each usable once, by its own user', async () => {
    const [id, other] = [await newUser(), await newUser()]
    await inTx((tx) => credentials.replaceRecoveryCodes(tx, id, ['old-1', 'old-2']))
    await inTx((tx) => credentials.replaceRecoveryCodes(tx, id, ['new-1', 'new-2']))
    await inTx((tx) => credentials.replaceRecoveryCodes(tx, other, ['other-1']))
    const codes = await db()
      .selectFrom('recovery_codes')
      .select(['code_hash', 'used_at'])
      .where('user_id', '=', id)
      .orderBy('code_hash')
      .execute()
    expect(codes).toEqual([
      { code_hash: 'new-1', used_at: null },
      { code_hash: 'new-2', used_at: null },
    ])
    const now = at('2030-08-01T00:00:00Z')
    expect(await inTx((tx) => credentials.useRecoveryCode(tx, id, 'old-1', now))).toBe(false)
    expect(await inTx((tx) => credentials.useRecoveryCode(tx, id, 'other-1', now))).toBe(false)
    expect(await inTx((tx) => credentials.useRecoveryCode(tx, id, 'new-1', now))).toBe(true)
    expect(await inTx((tx) => credentials.useRecoveryCode(tx, id, 'new-1', now))).toBe(false)
    const used = await db()
      .selectFrom('recovery_codes')
      .select('used_at')
      .where('user_id', '=', id)
      .where('code_hash', '=', 'new-1')
      .executeTakeFirstOrThrow()
    expect(used.used_at).toEqual(now)

    await inTx((tx) => credentials.deleteRecoveryCodes(tx, id))
    await inTx((tx) => credentials.replaceRecoveryCodes(tx, other, []))
    const left = await db()
      .selectFrom('recovery_codes')
      .select('user_id')
      .where('user_id', 'in', [id, other])
      .execute()
    expect(left).toEqual([])
  })

  it.runIf(kind === 'postgres')('lets one of concurrent uses of a recovery code through', async () => {
    const id = await newUser()
    await inTx((tx) => credentials.replaceRecoveryCodes(tx, id, ['race']))
    const now = at('2030-08-01T00:00:00Z')
    const answers = await Promise.all(
      Array.from({ length: 8 }, () => inTx((tx) => credentials.useRecoveryCode(tx, id, 'race', now))),
    )
    expect(answers.filter(Boolean)).toHaveLength(1)
  })
})
