import { randomUUID } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { type Tx, users } from '../src/index.ts'
import { TARGETS, useStore } from './support/targets.ts'

describe.each(TARGETS)('users repository (%s)', (kind) => {
  const handle = useStore(kind)
  const db = () => handle.store.db
  const inTx = <T>(fn: (tx: Tx) => Promise<T>) => db().transaction().execute(fn)

  it('inserts a provisioned user (no password) with the engine’s user.put', async () => {
    const id = randomUUID()
    const result = await inTx((tx) =>
      users.insertUser(tx, { id, email: `Ann-${id}@Example.com`, name: 'Ann' }),
    )
    expect(result.value).toMatchObject({
      id,
      email: `Ann-${id}@Example.com`,
      name: 'Ann',
      mfa_enabled: false,
      external_id: null,
    })
    expect(result.changes).toEqual([{ op: 'user.put', user: { id, mfaEnabled: false } }])
    const row = await db().selectFrom('users').selectAll().where('id', '=', id).executeTakeFirstOrThrow()
    expect(row).toMatchObject({
      password_hash: null,
      email_verified_at: null,
      password_changed_at: null,
      compliant_password_policies: [],
    })
    expect(await users.findUser(db(), id)).toEqual(result.value)
  })

  it('inserts a signed-up user with their password and dates', async () => {
    const id = randomUUID()
    const verified = new Date('2030-01-02T03:04:05.678Z')
    await inTx((tx) =>
      users.insertUser(tx, {
        id,
        email: `bo-${id}@example.com`,
        name: 'Bo',
        passwordHash: 'argon',
        emailVerifiedAt: verified,
        passwordChangedAt: verified,
      }),
    )
    const row = await db().selectFrom('users').selectAll().where('id', '=', id).executeTakeFirstOrThrow()
    expect(row).toMatchObject({
      password_hash: 'argon',
      email_verified_at: verified,
      password_changed_at: verified,
    })
  })

  it('finds a user by email whatever its case, and lists users by id', async () => {
    const id = randomUUID()
    await inTx((tx) => users.insertUser(tx, { id, email: `Cy-${id}@Example.COM`, name: 'Cy' }))
    expect(await users.findUserIdByEmail(db(), `cy-${id}@example.com`)).toBe(id)
    expect(await users.findUserIdByEmail(db(), `cy-${id}@example.org`)).toBeUndefined()
    expect(await users.listUsersByIds(db(), [id, randomUUID()])).toEqual([
      { id, email: `Cy-${id}@Example.COM`, name: 'Cy' },
    ])
    expect(await users.listUsersByIds(db(), [])).toEqual([])
  })

  it('records the password policies a user meets, with their 2FA state as the row has it', async () => {
    const id = randomUUID()
    await inTx((tx) => users.insertUser(tx, { id, email: `di-${id}@example.com`, name: 'Di' }))
    await db().updateTable('users').set({ mfa_enabled: true }).where('id', '=', id).execute()
    const result = await inTx((tx) => users.setCompliantPolicies(tx, id, ['pol-a', 'pol-b']))
    expect(result.changes).toEqual([
      { op: 'user.put', user: { id, mfaEnabled: true, compliantPasswordPolicies: ['pol-a', 'pol-b'] } },
    ])
    const row = await db()
      .selectFrom('users')
      .select('compliant_password_policies')
      .where('id', '=', id)
      .executeTakeFirstOrThrow()
    expect(row.compliant_password_policies).toEqual(['pol-a', 'pol-b'])
    await expect(inTx((tx) => users.setCompliantPolicies(tx, randomUUID(), []))).rejects.toThrow()
  })

  it('inserts a user with the host’s id, found by it, by email or both; the id is unique', async () => {
    const id = randomUUID()
    const externalId = `auth0|${id}`
    const result = await inTx((tx) =>
      users.insertUser(tx, { id, email: `Eve-${id}@Example.com`, name: 'Eve', externalId }),
    )
    expect(result.value.external_id).toBe(externalId)
    expect(result.changes).toEqual([{ op: 'user.put', user: { id, mfaEnabled: false } }])
    expect(await users.findUserIdByExternalId(db(), externalId)).toBe(id)
    expect(await users.findUserIdByExternalId(db(), `auth0|${randomUUID()}`)).toBeUndefined()
    expect(await users.findUsers(db(), { externalId })).toEqual([result.value])
    expect(await users.findUsers(db(), { email: `eve-${id}@example.com` })).toEqual([result.value])
    expect(await users.findUsers(db(), { externalId, email: `eve-${id}@example.com` })).toEqual([
      result.value,
    ])
    expect(await users.findUsers(db(), { externalId, email: 'someone@else.example' })).toEqual([])
    await expect(
      inTx((tx) =>
        users.insertUser(tx, { id: randomUUID(), email: `other-${id}@example.com`, name: 'O', externalId }),
      ),
    ).rejects.toMatchObject({ code: '23505' })
  })

  it('links the host’s id to a user who has none, never moving it from one who has', async () => {
    const id = randomUUID()
    await inTx((tx) => users.insertUser(tx, { id, email: `fay-${id}@example.com`, name: 'Fay' }))
    const linked = await inTx((tx) => users.linkExternalId(tx, id, `ext-${id}`))
    expect(linked.value?.external_id).toBe(`ext-${id}`)
    expect(linked.changes).toEqual([])
    const again = await inTx((tx) => users.linkExternalId(tx, id, `other-${id}`))
    expect(again.value).toBeUndefined()
    expect((await users.findUser(db(), id))?.external_id).toBe(`ext-${id}`)
    expect((await inTx((tx) => users.linkExternalId(tx, randomUUID(), `x-${id}`))).value).toBeUndefined()
  })

  it('updates a user’s email and name (the host’s upsert), with no engine change', async () => {
    const id = randomUUID()
    await inTx((tx) => users.insertUser(tx, { id, email: `gil-${id}@example.com`, name: 'Gil' }))
    const updated = await inTx((tx) =>
      users.updateProfile(tx, id, { email: `gil.new-${id}@example.com`, name: 'Gil New' }),
    )
    expect(updated.value).toMatchObject({ id, email: `gil.new-${id}@example.com`, name: 'Gil New' })
    expect(updated.changes).toEqual([])
    expect(await users.findUser(db(), id)).toEqual(updated.value)
  })

  it('drops the email’s verification when the address changes, keeps it when only the name does', async () => {
    const id = randomUUID()
    const email = `hal-${id}@example.com`
    await inTx((tx) => users.insertUser(tx, { id, email, name: 'Hal', emailVerifiedAt: new Date() }))
    const verifiedAt = () =>
      db().selectFrom('users').select('email_verified_at').where('id', '=', id).executeTakeFirstOrThrow()
    await inTx((tx) => users.updateProfile(tx, id, { email, name: 'Hal Renamed' }))
    expect((await verifiedAt()).email_verified_at).toBeInstanceOf(Date)
    await inTx((tx) => users.updateProfile(tx, id, { email: `hal-${id}@acme.test`, name: 'Hal' }))
    expect((await verifiedAt()).email_verified_at).toBeNull()
  })
})
