import { randomUUID } from 'node:crypto'
import { Authorizer, presets } from '@orgkit/core'
import { describe, expect, it } from 'vitest'
import { bindings, loadSnapshot, overrides, type Tx, toBindingRecord } from '../src/index.ts'
import { bind, countWhere, newApp, newChannel, newGroup, newOrg, newUser } from './support/org-rows.ts'
import { TARGETS, useStore } from './support/targets.ts'

/**
 * Bindings and overrides: every function, asserting the rows it leaves and the engine changes it returns,
 * exactly.
 */
const sorted = (ids: readonly string[]) => [...ids].sort()

describe.each(TARGETS)('bindings and overrides repositories (%s)', (kind) => {
  const handle = useStore(kind)
  const db = () => handle.store.db
  const inTx = <T>(fn: (tx: Tx) => Promise<T>) => db().transaction().execute(fn)

  describe('bindings', () => {
    it('inserts user and group bindings at org and resource scope, each with its binding.put', async () => {
      const [org, other, user, granter] = [
        await newOrg(db()),
        await newOrg(db()),
        await newUser(db()),
        await newUser(db()),
      ]
      const app = await newApp(db(), org)
      const group = await newGroup(db(), org)
      const expires = new Date('2031-05-06T07:08:09.123Z')
      const [atOrg, atApp] = [randomUUID(), randomUUID()]
      const a = await inTx((tx) =>
        bindings.insertBinding(tx, {
          id: atOrg,
          orgId: org,
          userId: user,
          groupId: null,
          role: 'org_admin',
          scopeType: 'org',
          resourceId: null,
          expiresAt: null,
          grantedBy: granter,
          reason: 'on call',
        }),
      )
      expect(a.changes).toEqual([
        {
          op: 'binding.put',
          binding: {
            id: atOrg,
            principal: { type: 'user', id: user },
            role: 'org_admin',
            scope: { type: 'org', id: org },
            expiresAt: null,
          },
        },
      ])
      expect(a.value).toMatchObject({
        org_id: org,
        user_id: user,
        group_id: null,
        granted_by: granter,
        reason: 'on call',
      })
      const b = await inTx((tx) =>
        bindings.insertBinding(tx, {
          id: atApp,
          orgId: org,
          userId: null,
          groupId: group,
          role: 'team',
          scopeType: 'app',
          resourceId: app,
          expiresAt: expires,
          grantedBy: null,
          reason: null,
        }),
      )
      expect(b.changes).toEqual([
        {
          op: 'binding.put',
          binding: {
            id: atApp,
            principal: { type: 'group', id: group },
            role: 'team',
            scope: { type: 'app', id: app },
            expiresAt: expires.getTime(),
          },
        },
      ])
      expect(await bindings.findBinding(db(), org, atApp)).toEqual(b.value)
      expect(await bindings.findBinding(db(), other, atApp)).toBeUndefined()
      expect(bindings.toRecord(b.value)).toEqual(toBindingRecord(b.value))
      // The schema's checks: one principal, and a resource exactly when the scope isn't the org.
      const bad = {
        id: randomUUID(),
        orgId: org,
        role: 'org_admin',
        expiresAt: null,
        grantedBy: null,
        reason: null,
      }
      await expect(
        inTx((tx) =>
          bindings.insertBinding(tx, {
            ...bad,
            userId: user,
            groupId: group,
            scopeType: 'org',
            resourceId: null,
          }),
        ),
      ).rejects.toThrow()
      await expect(
        inTx((tx) =>
          bindings.insertBinding(tx, {
            ...bad,
            userId: user,
            groupId: null,
            scopeType: 'app',
            resourceId: null,
          }),
        ),
      ).rejects.toThrow()
    })

    it('builds the row from the transaction’s now() as the database holds it; reads back an id in capitals', async () => {
      const org = await newOrg(db())
      const [user, other] = [await newUser(db()), await newUser(db())]
      const row = (userId: string) => ({
        id: randomUUID(),
        orgId: org,
        userId,
        groupId: null,
        role: 'org_admin',
        scopeType: 'org',
        resourceId: null,
        expiresAt: new Date('2031-05-06T07:08:09.123Z'),
        grantedBy: null,
        reason: null,
      })
      const inserted = (userId: string) =>
        inTx(async (tx) => {
          const { now } = await tx
            .selectNoFrom((eb) => eb.fn<Date>('now', []).as('now'))
            .executeTakeFirstOrThrow()
          const { value, changes } = await bindings.insertBinding(tx, row(userId), now)
          return { value, changes, now }
        })
      const built = await inserted(user)
      expect(built.value.created_at).toEqual(built.now)
      expect(await bindings.findBinding(db(), org, built.value.id)).toEqual(built.value)
      // A user id spelt in capitals: the database holds it in small letters, and so must the row and the change.
      const capitals = await inserted(other.toUpperCase())
      expect(capitals.value.user_id).toBe(other)
      expect(capitals.changes).toEqual([
        expect.objectContaining({
          binding: expect.objectContaining({ principal: { type: 'user', id: other } }),
        }),
      ])
      expect(await bindings.findBinding(db(), org, capitals.value.id)).toEqual(capitals.value)
    })

    it('lists bindings by org, principal, scope, role and resource; and who is bound below the org', async () => {
      const [org, other] = [await newOrg(db()), await newOrg(db())]
      const [ann, bo] = [await newUser(db()), await newUser(db())]
      const [app, app2] = [await newApp(db(), org), await newApp(db(), org)]
      const group = await newGroup(db(), org)
      const ids = {
        annOrg: await bind(db(), { orgId: org, userId: ann, role: 'org_member' }),
        annApp: await bind(db(), {
          orgId: org,
          userId: ann,
          role: 'app_admin',
          scope: { type: 'app', id: app },
        }),
        boApp2: await bind(db(), {
          orgId: org,
          userId: bo,
          role: 'app_reader',
          scope: { type: 'app', id: app2 },
        }),
        group: await bind(db(), { orgId: org, groupId: group, role: 'org_member' }),
        other: await bind(db(), { orgId: other, userId: ann, role: 'org_admin' }),
      }
      const list = async (
        filter: Omit<Parameters<typeof bindings.listBindings>[1], 'orgIds'>,
        orgIds = [org],
      ) => sorted((await bindings.listBindings(db(), { orgIds, ...filter })).map((b) => b.id))
      expect(await list({})).toEqual(sorted([ids.annOrg, ids.annApp, ids.boApp2, ids.group]))
      expect(await list({}, [org, other])).toEqual(sorted(Object.values(ids)))
      expect(await list({ userId: ann })).toEqual(sorted([ids.annOrg, ids.annApp]))
      expect(await list({ groupId: group })).toEqual([ids.group])
      expect(await list({ orgScopeOnly: true })).toEqual(sorted([ids.annOrg, ids.group]))
      expect(await list({ role: 'org_member', userId: ann })).toEqual([ids.annOrg])
      expect(await list({ resourceIds: [app, app2] })).toEqual(sorted([ids.annApp, ids.boApp2]))
      expect(await list({ resourceIds: [] })).toEqual([])
      expect(await list({}, [])).toEqual([])
      expect(sorted(await bindings.userIdsBoundBelowOrg(db(), org))).toEqual(sorted([ann, bo]))
      expect(await bindings.userIdsBoundBelowOrg(db(), other)).toEqual([])
    })

    it('gives bindings another role in place, with a binding.put for each one there', async () => {
      const [org, user] = [await newOrg(db()), await newUser(db())]
      const app = await newApp(db(), org)
      const [one, two] = [
        await bind(db(), { orgId: org, userId: user, role: 'app_reader', scope: { type: 'app', id: app } }),
        await bind(db(), { orgId: org, userId: user, role: 'app_uploader', scope: { type: 'app', id: app } }),
      ]
      const result = await inTx((tx) => bindings.setRole(tx, [one, two, randomUUID()], 'app_developer'))
      expect(result.value.map((b) => [b.id, b.role]).sort()).toEqual(
        sorted([one, two]).map((id) => [id, 'app_developer']),
      )
      expect(result.changes).toEqual(
        result.value.map((row) => ({ op: 'binding.put', binding: toBindingRecord(row) })),
      )
      expect(result.changes.map((c) => c.op === 'binding.put' && c.binding.role)).toEqual([
        'app_developer',
        'app_developer',
      ])
      for (const id of [one, two])
        expect(await bindings.findBinding(db(), org, id)).toMatchObject({
          role: 'app_developer',
          resource_id: app,
          user_id: user,
        })
      expect(await inTx((tx) => bindings.setRole(tx, [], 'app_admin'))).toEqual({ value: [], changes: [] })
    })

    it('deletes bindings by id, with a binding.delete each', async () => {
      const [org, user] = [await newOrg(db()), await newUser(db())]
      const [one, two, kept] = [
        await bind(db(), { orgId: org, userId: user, role: 'org_member' }),
        await bind(db(), { orgId: org, userId: user, role: 'org_admin' }),
        await bind(db(), { orgId: org, userId: user, role: 'org_billing_admin' }),
      ]
      const result = await inTx((tx) => bindings.deleteBindings(tx, [one, two]))
      expect(result).toEqual({
        value: undefined,
        changes: [
          { op: 'binding.delete', id: one },
          { op: 'binding.delete', id: two },
        ],
      })
      expect(await countWhere(db(), 'bindings', 'id', [one, two])).toBe(0)
      expect(await countWhere(db(), 'bindings', 'id', [kept])).toBe(1)
      expect(await inTx((tx) => bindings.deleteBindings(tx, []))).toEqual({ value: undefined, changes: [] })
    })
  })

  describe('overrides', () => {
    it('upserts an override by principal, resource and permission, with override.put', async () => {
      const [org, user] = [await newOrg(db()), await newUser(db())]
      const channel = await newChannel(db(), org, await newApp(db(), org))
      const group = await newGroup(db(), org)
      const key = { resourceId: channel, permission: 'channel.promote_bundle', userId: user, groupId: null }
      const first = randomUUID()
      const a = await inTx((tx) =>
        overrides.upsertOverride(tx, { id: first, orgId: org, ...key, effect: 'allow' }),
      )
      const record = {
        principal: { type: 'user', id: user },
        resourceId: channel,
        permission: 'channel.promote_bundle',
      }
      expect(a.changes).toEqual([{ op: 'override.put', override: { ...record, effect: 'allow' } }])
      expect(a.value).toMatchObject({
        id: first,
        org_id: org,
        resource_id: channel,
        user_id: user,
        group_id: null,
        effect: 'allow',
      })
      // Again with another effect: the same row, its effect changed (the new id is not used).
      const b = await inTx((tx) =>
        overrides.upsertOverride(tx, { id: randomUUID(), orgId: org, ...key, effect: 'deny' }),
      )
      expect(b.changes).toEqual([{ op: 'override.put', override: { ...record, effect: 'deny' } }])
      expect(b.value).toMatchObject({ id: first, effect: 'deny' })
      expect(await overrides.findOverride(db(), key)).toEqual(b.value)
      // The same resource and permission for a group is another override.
      const groupKey = { ...key, userId: null, groupId: group }
      const g = await inTx((tx) =>
        overrides.upsertOverride(tx, { id: randomUUID(), orgId: org, ...groupKey, effect: 'allow' }),
      )
      expect(g.changes).toEqual([
        {
          op: 'override.put',
          override: { ...record, principal: { type: 'group', id: group }, effect: 'allow' },
        },
      ])
      expect(await overrides.findOverride(db(), groupKey)).toEqual(g.value)
      expect(await overrides.findOverride(db(), { ...key, permission: 'channel.read' })).toBeUndefined()
      expect(await countWhere(db(), 'overrides', 'resource_id', [channel])).toBe(2)
    })

    it('lists an org’s overrides by resource and principal', async () => {
      const [org, other, user] = [await newOrg(db()), await newOrg(db()), await newUser(db())]
      const app = await newApp(db(), org)
      const [ch1, ch2] = [await newChannel(db(), org, app), await newChannel(db(), org, app)]
      const group = await newGroup(db(), org)
      const put = (resourceId: string, principal: { userId?: string; groupId?: string }) =>
        inTx((tx) =>
          overrides.upsertOverride(tx, {
            id: randomUUID(),
            orgId: org,
            resourceId,
            userId: principal.userId ?? null,
            groupId: principal.groupId ?? null,
            permission: 'channel.read',
            effect: 'allow',
          }),
        ).then((r) => r.value.id)
      const ids = {
        userCh1: await put(ch1, { userId: user }),
        userCh2: await put(ch2, { userId: user }),
        groupCh1: await put(ch1, { groupId: group }),
      }
      const list = async (
        filter: Omit<Parameters<typeof overrides.listOverrides>[1], 'orgIds'>,
        orgIds = [org],
      ) => sorted((await overrides.listOverrides(db(), { orgIds, ...filter })).map((o) => o.id))
      expect(await list({})).toEqual(sorted(Object.values(ids)))
      expect(await list({ resourceId: ch1 })).toEqual(sorted([ids.userCh1, ids.groupCh1]))
      expect(await list({ userId: user })).toEqual(sorted([ids.userCh1, ids.userCh2]))
      expect(await list({ groupId: group })).toEqual([ids.groupCh1])
      expect(await list({}, [other])).toEqual([])
      expect(await list({}, [])).toEqual([])
    })

    it('deletes overrides as read, each with an override.delete by principal, resource and permission', async () => {
      const [org, user] = [await newOrg(db()), await newUser(db())]
      const channel = await newChannel(db(), org, await newApp(db(), org))
      const group = await newGroup(db(), org)
      const common = { orgId: org, resourceId: channel, effect: 'deny' as const }
      const rows = await inTx(async (tx) => [
        (
          await overrides.upsertOverride(tx, {
            ...common,
            id: randomUUID(),
            userId: user,
            groupId: null,
            permission: 'channel.read',
          })
        ).value,
        (
          await overrides.upsertOverride(tx, {
            ...common,
            id: randomUUID(),
            userId: null,
            groupId: group,
            permission: 'channel.read_history',
          })
        ).value,
      ])
      const result = await inTx((tx) => overrides.deleteOverrides(tx, rows))
      expect(result).toEqual({
        value: undefined,
        changes: [
          {
            op: 'override.delete',
            principal: { type: 'user', id: user },
            resourceId: channel,
            permission: 'channel.read',
          },
          {
            op: 'override.delete',
            principal: { type: 'group', id: group },
            resourceId: channel,
            permission: 'channel.read_history',
          },
        ],
      })
      expect(await countWhere(db(), 'overrides', 'resource_id', [channel])).toBe(0)
      expect(await inTx((tx) => overrides.deleteOverrides(tx, []))).toEqual({ value: undefined, changes: [] })
    })

    it('forgets nothing for a row read earlier and gone since, though its key lives on in a new row', async () => {
      // Regression: deleteOverrides deleted by id but returned a delete by key for every row it was given.
      // A row deleted and set again (a new id) after the caller read it made the engine forget the live
      // override while the database kept it: the engine allowed less than the rows until a restart.
      const [org, user] = [await newOrg(db()), await newUser(db())]
      const channel = await newChannel(db(), org, await newApp(db(), org))
      const key = { resourceId: channel, permission: 'channel.read', userId: user, groupId: null }
      const put = () =>
        inTx((tx) => overrides.upsertOverride(tx, { id: randomUUID(), orgId: org, ...key, effect: 'allow' }))
      const read = (await put()).value
      await inTx((tx) => overrides.deleteOverrides(tx, [read]))
      const live = (await put()).value
      expect(live.id).not.toBe(read.id)
      const engine = new Authorizer(presets.capgo!, (await loadSnapshot(db())).snapshot)
      const stale = await inTx((tx) => overrides.deleteOverrides(tx, [read]))
      expect(stale).toEqual({ value: undefined, changes: [] })
      engine.apply(stale.changes)
      // The user is no member: the live allow override is all that lets them read the channel.
      const question = [{ type: 'user', id: user }, 'channel.read', { type: 'channel', id: channel }] as const
      expect(engine.check(...question)).toEqual({ allowed: true, reason: 'override' })
      expect(new Authorizer(presets.capgo!, (await loadSnapshot(db())).snapshot).check(...question)).toEqual(
        engine.check(...question),
      )
      expect(await overrides.findOverride(db(), key)).toEqual(live)
    })
  })
})
