import { randomUUID } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { customRoles, overrides, resources, type Tx } from '../src/index.ts'
import { bind, countWhere, newApp, newChannel, newOrg, newUser } from './support/org-rows.ts'
import { TARGETS, useStore } from './support/targets.ts'

/**
 * Resources and custom roles: every function, asserting the rows it leaves and the engine changes it
 * returns, exactly (deletes: the one change, and what the database's cascades took).
 */
const sorted = (ids: readonly string[]) => [...ids].sort()

describe.each(TARGETS)('resources and custom roles repositories (%s)', (kind) => {
  const handle = useStore(kind)
  const db = () => handle.store.db
  const inTx = <T>(fn: (tx: Tx) => Promise<T>) => db().transaction().execute(fn)

  describe('resources', () => {
    it('inserts apps and channels with resource.put; finds, lists, pages and walks them', async () => {
      const [org, other] = [await newOrg(db()), await newOrg(db())]
      const [app, channel] = [randomUUID(), randomUUID()]
      const a = await inTx((tx) =>
        resources.insertResource(tx, { id: app, orgId: org, type: 'app', parentId: null, name: 'App' }),
      )
      expect(a.changes).toEqual([
        { op: 'resource.put', resource: { id: app, orgId: org, type: 'app', parentId: null } },
      ])
      expect(a.value).toMatchObject({ id: app, org_id: org, type: 'app', parent_id: null, name: 'App' })
      const c = await inTx((tx) =>
        resources.insertResource(tx, {
          id: channel,
          orgId: org,
          type: 'channel',
          parentId: app,
          name: 'Prod',
        }),
      )
      expect(c.changes).toEqual([
        { op: 'resource.put', resource: { id: channel, orgId: org, type: 'channel', parentId: app } },
      ])
      expect(await resources.findResource(db(), org, channel)).toEqual(c.value)
      expect(await resources.findResource(db(), other, channel)).toBeUndefined()
      const more = [await newChannel(db(), org, app), await newChannel(db(), org, app)]
      const channels = sorted([channel, ...more])
      expect((await resources.listResources(db(), { orgId: org, limit: 10 })).map((r) => r.id)).toEqual(
        sorted([app, ...channels]),
      )
      expect(
        (await resources.listResources(db(), { orgId: org, type: 'app', limit: 10 })).map((r) => r.id),
      ).toEqual([app])
      expect(
        (await resources.listResources(db(), { orgId: org, parentId: app, limit: 10 })).map((r) => r.id),
      ).toEqual(channels)
      const page = await resources.listResources(db(), {
        orgId: org,
        type: 'channel',
        after: channels[0]!,
        limit: 1,
      })
      expect(page.map((r) => r.id)).toEqual([channels[1]])
      expect(await resources.listResources(db(), { orgId: other, limit: 10 })).toEqual([])
      expect(sorted(await resources.childResourceIds(db(), org, app))).toEqual(channels)
      expect(await resources.childResourceIds(db(), other, app)).toEqual([])
    })

    it('renames a resource with no change (the engine mirrors no names)', async () => {
      const org = await newOrg(db())
      const app = await newApp(db(), org)
      const result = await inTx((tx) => resources.renameResource(tx, app, 'Renamed'))
      expect(result.changes).toEqual([])
      expect(result.value).toMatchObject({ id: app, name: 'Renamed' })
      expect(await resources.findResource(db(), org, app)).toEqual(result.value)
      await expect(inTx((tx) => resources.renameResource(tx, randomUUID(), 'X'))).rejects.toThrow()
    })

    it('deletes a resource with one resource.delete; the database takes what lies below it', async () => {
      const [org, user] = [await newOrg(db()), await newUser(db())]
      const app = await newApp(db(), org)
      const channel = await newChannel(db(), org, app)
      const sibling = await newApp(db(), org)
      const onApp = await bind(db(), {
        orgId: org,
        userId: user,
        role: 'app_admin',
        scope: { type: 'app', id: app },
      })
      const onChannel = await bind(db(), {
        orgId: org,
        userId: user,
        role: 'c1',
        scope: { type: 'channel', id: channel },
      })
      const kept = await bind(db(), {
        orgId: org,
        userId: user,
        role: 'app_reader',
        scope: { type: 'app', id: sibling },
      })
      await inTx((tx) =>
        overrides.upsertOverride(tx, {
          id: randomUUID(),
          orgId: org,
          resourceId: channel,
          userId: user,
          groupId: null,
          permission: 'channel.read',
          effect: 'deny',
        }),
      )
      const result = await inTx((tx) => resources.deleteResource(tx, app))
      expect(result).toEqual({ value: undefined, changes: [{ op: 'resource.delete', id: app }] })
      expect(await countWhere(db(), 'resources', 'id', [app, channel])).toBe(0)
      expect(await countWhere(db(), 'bindings', 'id', [onApp, onChannel])).toBe(0)
      expect(await countWhere(db(), 'overrides', 'resource_id', [channel])).toBe(0)
      expect(await countWhere(db(), 'bindings', 'id', [kept])).toBe(1)
      expect(await countWhere(db(), 'resources', 'id', [sibling])).toBe(1)
    })
  })

  describe('custom roles', () => {
    const fields = {
      scope: 'app',
      slot: 'app',
      label: 'Tester',
      description: 'Reads and uploads',
      permissions: ['app.read', 'app.upload_bundle'],
      priority: 25,
    }

    it('inserts, finds and lists an org’s custom roles, with role.put', async () => {
      const [org, other] = [await newOrg(db()), await newOrg(db())]
      const result = await inTx((tx) => customRoles.insertCustomRole(tx, org, 'tester', fields))
      expect(result.changes).toEqual([
        {
          op: 'role.put',
          role: {
            orgId: org,
            key: 'tester',
            scope: 'app',
            slot: 'app',
            label: 'Tester',
            permissions: ['app.read', 'app.upload_bundle'],
            priority: 25,
          },
        },
      ])
      expect(result.value).toMatchObject({ org_id: org, key: 'tester', ...fields })
      expect(await customRoles.findCustomRole(db(), org, 'tester')).toEqual(result.value)
      expect(await customRoles.findCustomRole(db(), other, 'tester')).toBeUndefined()
      // The same key in another org is another role.
      await inTx((tx) => customRoles.insertCustomRole(tx, other, 'tester', { ...fields, priority: 1 }))
      expect(await customRoles.listCustomRoles(db(), org)).toEqual([result.value])
      await expect(inTx((tx) => customRoles.insertCustomRole(tx, org, 'tester', fields))).rejects.toThrow()
    })

    it('updates a custom role in place (its scope stays), with role.put', async () => {
      const org = await newOrg(db())
      await inTx((tx) => customRoles.insertCustomRole(tx, org, 'ops', fields))
      const patch = {
        slot: 'org',
        label: 'Ops',
        description: '',
        permissions: ['channel.read'],
        priority: 90,
      }
      const result = await inTx((tx) => customRoles.updateCustomRole(tx, org, 'ops', patch))
      expect(result.changes).toEqual([
        {
          op: 'role.put',
          role: {
            orgId: org,
            key: 'ops',
            scope: 'app',
            slot: 'org',
            label: 'Ops',
            permissions: ['channel.read'],
            priority: 90,
          },
        },
      ])
      expect(await customRoles.findCustomRole(db(), org, 'ops')).toMatchObject({ scope: 'app', ...patch })
      await expect(inTx((tx) => customRoles.updateCustomRole(tx, org, 'nope', patch))).rejects.toThrow()
    })

    it('deletes a custom role with role.delete; bindings naming it stay (they grant nothing)', async () => {
      const [org, user] = [await newOrg(db()), await newUser(db())]
      await inTx((tx) => customRoles.insertCustomRole(tx, org, 'gone', fields))
      const app = await newApp(db(), org)
      const binding = await bind(db(), {
        orgId: org,
        userId: user,
        role: 'gone',
        scope: { type: 'app', id: app },
      })
      const result = await inTx((tx) => customRoles.deleteCustomRole(tx, org, 'gone'))
      expect(result).toEqual({ value: undefined, changes: [{ op: 'role.delete', orgId: org, key: 'gone' }] })
      expect(await customRoles.findCustomRole(db(), org, 'gone')).toBeUndefined()
      expect(await countWhere(db(), 'bindings', 'id', [binding])).toBe(1)
    })
  })
})
