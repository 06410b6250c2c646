import { randomUUID } from 'node:crypto'
import { setTimeout } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { invitations, type Tx } from '../src/index.ts'
import { newApp, newOrg, newUser } from './support/org-rows.ts'
import { TARGETS, useStore } from './support/targets.ts'

/**
 * Invitations at a given `now`: open (not accepted, not revoked; expired ones included, they can be
 * resent), pending (open and not expired: each holds a seat), and one claim winning a race.
 */
const NOW = new Date('2031-01-01T00:00:00.000Z')
const at = (ms: number) => new Date(NOW.getTime() + ms)
const DAY = 86_400_000

describe.each(TARGETS)('invitations repository (%s)', (kind) => {
  const handle = useStore(kind)
  const db = () => handle.store.db
  const inTx = <T>(fn: (tx: Tx) => Promise<T>) => db().transaction().execute(fn)
  const row = (id: string) =>
    db().selectFrom('invitations').selectAll().where('id', '=', id).executeTakeFirst()

  /** An invitation to `orgId` expiring `expiresIn` ms after NOW; returns its id and token hash. */
  async function invite(
    orgId: string,
    expiresIn = DAY,
    email = `${randomUUID()}@example.com`,
    resourceId?: string,
  ) {
    const id = randomUUID()
    const tokenHash = `hash-${id}`
    await inTx((tx) =>
      invitations.insertInvitation(tx, {
        id,
        orgId,
        email,
        role: 'org_member',
        firstName: null,
        lastName: null,
        tokenHash,
        invitedBy: null,
        expiresAt: at(expiresIn),
        ...(resourceId && { resourceId, role: 'app_reader' }),
      }),
    )
    return { id, tokenHash, email }
  }

  it('inserts an invitation, open and pending until it expires', async () => {
    const [org, inviter] = [await newOrg(db()), await newUser(db())]
    const id = randomUUID()
    const inserted = await inTx((tx) =>
      invitations.insertInvitation(tx, {
        id,
        orgId: org,
        email: 'Ann@Example.com',
        role: 'org_admin',
        firstName: 'Ann',
        lastName: 'Lee',
        tokenHash: `hash-${id}`,
        invitedBy: inviter,
        expiresAt: at(DAY),
      }),
    )
    expect(inserted).toMatchObject({
      id,
      org_id: org,
      email: 'Ann@Example.com',
      role: 'org_admin',
      first_name: 'Ann',
      last_name: 'Lee',
      token_hash: `hash-${id}`,
      invited_by: inviter,
      expires_at: at(DAY),
      accepted_at: null,
      accepted_by: null,
      revoked_at: null,
    })
    expect(await row(id)).toEqual(inserted)
    expect(await invitations.findOpenByTokenHash(db(), `hash-${id}`, NOW)).toEqual(inserted)
    expect(await invitations.listPending(db(), org, NOW)).toEqual([inserted])
    // Expired the moment `now` reaches its expiry: open still, no longer pending.
    for (const later of [at(DAY), at(DAY + 1)]) {
      expect(await invitations.findOpenByTokenHash(db(), `hash-${id}`, later)).toBeUndefined()
      expect(await invitations.listPending(db(), org, later)).toEqual([])
      expect(await invitations.isExpired(db(), org, id, later)).toBe(true)
    }
    expect(await invitations.isExpired(db(), org, id, at(DAY - 1))).toBe(false)
    expect(await invitations.listOpen(db(), org)).toEqual([inserted])
  })

  it('lists an org’s open invitations oldest first, expired included; pending ones only unexpired', async () => {
    const [org, other] = [await newOrg(db()), await newOrg(db())]
    const expired = await invite(org, -1)
    // Oldest first is by creation time: a millisecond apart at least (PGlite's clock), or they tie.
    await setTimeout(2)
    const live = await invite(org, DAY)
    const accepted = await invite(org, DAY)
    const revoked = await invite(org, DAY)
    await invite(other, DAY)
    const claimant = await newUser(db())
    await inTx((tx) => invitations.claim(tx, accepted.tokenHash, claimant, NOW))
    await inTx((tx) => invitations.revoke(tx, org, revoked.id, NOW))
    expect((await invitations.listOpen(db(), org)).map((r) => r.id)).toEqual([expired.id, live.id])
    expect((await invitations.listPending(db(), org, NOW)).map((r) => r.id)).toEqual([live.id])
    expect(await invitations.listOpen(db(), randomUUID())).toEqual([])
  })

  it('finds the open invitation of an email in any case, expired or not, one per org', async () => {
    const [org, other] = [await newOrg(db()), await newOrg(db())]
    const expired = await invite(org, -DAY, 'Bo.Expired@Example.com')
    expect(await invitations.findOpenForEmail(db(), org, 'bo.expired@EXAMPLE.COM', null)).toMatchObject({
      id: expired.id,
    })
    expect(await invitations.findOpenForEmail(db(), other, 'bo.expired@example.com', null)).toBeUndefined()
    // One open invitation per email and org, whatever the case.
    await expect(invite(org, DAY, 'BO.EXPIRED@example.com')).rejects.toThrow()
    await inTx((tx) => invitations.revoke(tx, org, expired.id, NOW))
    expect(await invitations.findOpenForEmail(db(), org, 'bo.expired@example.com', null)).toBeUndefined()
    const again = await invite(org, DAY, 'bo.expired@example.com')
    expect(await invitations.findOpenForEmail(db(), org, 'Bo.Expired@Example.com', null)).toMatchObject({
      id: again.id,
    })
  })

  it('holds one open invitation per email and target: the org, and each resource (issue 19.7)', async () => {
    const org = await newOrg(db())
    const [app, other] = [await newApp(db(), org), await newApp(db(), org)]
    const email = `${randomUUID()}@example.com`
    const member = await invite(org, DAY, email)
    const toApp = await invite(org, DAY, email.toUpperCase(), app)
    const toOther = await invite(org, DAY, email, other)
    expect(await invitations.findOpenForEmail(db(), org, email, null)).toMatchObject({ id: member.id })
    expect(await invitations.findOpenForEmail(db(), org, email, app)).toMatchObject({ id: toApp.id })
    expect(await invitations.findOpenForEmail(db(), org, email, other)).toMatchObject({ id: toOther.id })
    // A second open one to the same target is one too many, for the org and for a resource alike.
    await expect(invite(org, DAY, email)).rejects.toThrow()
    await expect(invite(org, DAY, email, app)).rejects.toThrow()
  })

  it('tells an expired open invitation, in its org only', async () => {
    const [org, other] = [await newOrg(db()), await newOrg(db())]
    const expired = await invite(org, -1)
    // Oldest first is by creation time: a millisecond apart at least (PGlite's clock), or they tie.
    await setTimeout(2)
    const live = await invite(org, DAY)
    expect(await invitations.isExpired(db(), org, expired.id, NOW)).toBe(true)
    expect(await invitations.isExpired(db(), org, live.id, NOW)).toBe(false)
    expect(await invitations.isExpired(db(), other, expired.id, NOW)).toBe(false)
    expect(await invitations.isExpired(db(), org, randomUUID(), NOW)).toBe(false)
  })

  it('says an accepted or revoked invitation is not an expired open one', async () => {
    // Regression: isExpired ignored accepted_at and revoked_at, so resending an accepted (or revoked)
    // invitation past its expiry asked for a free seat first, and a full org answered with a seat error
    // instead of "no such pending invitation".
    const [org, claimant] = [await newOrg(db()), await newUser(db())]
    const accepted = await invite(org, DAY)
    const revoked = await invite(org, DAY)
    await inTx((tx) => invitations.claim(tx, accepted.tokenHash, claimant, NOW))
    await inTx((tx) => invitations.revoke(tx, org, revoked.id, NOW))
    for (const { id } of [accepted, revoked])
      expect(await invitations.isExpired(db(), org, id, at(2 * DAY))).toBe(false)
  })

  it('renews an open invitation, expired ones too: a new link and expiry, the old link dead', async () => {
    const [org, other] = [await newOrg(db()), await newOrg(db())]
    const expired = await invite(org, -DAY)
    const renewed = await inTx((tx) => invitations.renew(tx, org, expired.id, 'hash-renewed', at(7 * DAY)))
    expect(renewed).toMatchObject({
      id: expired.id,
      token_hash: 'hash-renewed',
      expires_at: at(7 * DAY),
      accepted_at: null,
    })
    expect(await row(expired.id)).toEqual(renewed)
    expect(await invitations.findOpenByTokenHash(db(), expired.tokenHash, NOW)).toBeUndefined()
    expect(await invitations.findOpenByTokenHash(db(), 'hash-renewed', NOW)).toEqual(renewed)
    expect(await inTx((tx) => invitations.renew(tx, other, expired.id, 'hash-x', at(DAY)))).toBeUndefined()
    expect(await inTx((tx) => invitations.renew(tx, org, randomUUID(), 'hash-y', at(DAY)))).toBeUndefined()
  })

  it('renews and revokes only open invitations, leaving accepted and revoked ones as they are', async () => {
    const [org, claimant] = [await newOrg(db()), await newUser(db())]
    const [accepted, revoked] = [await invite(org), await invite(org)]
    await inTx((tx) => invitations.claim(tx, accepted.tokenHash, claimant, NOW))
    await inTx((tx) => invitations.revoke(tx, org, revoked.id, at(-DAY)))
    for (const { id } of [accepted, revoked]) {
      const before = await row(id)
      expect(
        await inTx((tx) => invitations.renew(tx, org, id, `hash-new-${id}`, at(9 * DAY))),
      ).toBeUndefined()
      expect(await inTx((tx) => invitations.revoke(tx, org, id, NOW))).toBeUndefined()
      expect(await row(id)).toEqual(before)
    }
    expect(await row(revoked.id)).toMatchObject({ revoked_at: at(-DAY), accepted_at: null })
  })

  it('revokes an open invitation, in its org only', async () => {
    const [org, other] = [await newOrg(db()), await newOrg(db())]
    const open = await invite(org, -1)
    expect(await inTx((tx) => invitations.revoke(tx, other, open.id, NOW))).toBeUndefined()
    expect(await row(open.id)).toMatchObject({ revoked_at: null })
    const revoked = await inTx((tx) => invitations.revoke(tx, org, open.id, NOW))
    expect(revoked).toMatchObject({ id: open.id, revoked_at: NOW, accepted_at: null })
    expect(await row(open.id)).toEqual(revoked)
    expect(await invitations.listOpen(db(), org)).toEqual([])
  })

  it('claims a pending invitation once; an expired, revoked or unknown one never', async () => {
    const org = await newOrg(db())
    const [user, late] = [await newUser(db()), await newUser(db())]
    const pending = await invite(org, DAY)
    const claimed = await inTx((tx) => invitations.claim(tx, pending.tokenHash, user, NOW))
    expect(claimed).toMatchObject({ id: pending.id, accepted_at: NOW, accepted_by: user, revoked_at: null })
    expect(await row(pending.id)).toEqual(claimed)
    expect(await inTx((tx) => invitations.claim(tx, pending.tokenHash, late, NOW))).toBeUndefined()
    expect(await invitations.findOpenByTokenHash(db(), pending.tokenHash, NOW)).toBeUndefined()
    const expiring = await invite(org, 0)
    expect(await inTx((tx) => invitations.claim(tx, expiring.tokenHash, user, NOW))).toBeUndefined()
    const revoked = await invite(org, DAY)
    await inTx((tx) => invitations.revoke(tx, org, revoked.id, NOW))
    expect(await inTx((tx) => invitations.claim(tx, revoked.tokenHash, user, NOW))).toBeUndefined()
    expect(await inTx((tx) => invitations.claim(tx, 'hash-unknown', user, NOW))).toBeUndefined()
    for (const { id } of [expiring, revoked])
      expect(await row(id)).toMatchObject({ accepted_at: null, accepted_by: null })
  })

  it('lets exactly one of many concurrent claims win', async () => {
    const org = await newOrg(db())
    const claimants = await Promise.all(Array.from({ length: 8 }, () => newUser(db())))
    const { id, tokenHash } = await invite(org, DAY)
    // On PostgreSQL every transaction has begun (and holds a connection) before any claims: the losers
    // queue on the winner's row lock and then see it accepted. PGlite runs them one after another.
    let started = 0
    let go!: () => void
    const allStarted = new Promise<void>((resolve) => {
      go = resolve
    })
    const results = await Promise.all(
      claimants.map((userId) =>
        inTx(async (tx) => {
          if (kind === 'postgres') {
            await tx.selectFrom('invitations').select('id').where('id', '=', id).execute()
            if (++started === claimants.length) go()
            await allStarted
          }
          return invitations.claim(tx, tokenHash, userId, NOW)
        }),
      ),
    )
    const winners = results.filter((r) => r !== undefined)
    expect(winners).toHaveLength(1)
    expect(await row(id)).toMatchObject({ accepted_at: NOW, accepted_by: winners[0]!.accepted_by })
    expect(claimants).toContain(winners[0]!.accepted_by)
  })
})
