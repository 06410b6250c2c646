import { randomUUID } from 'node:crypto'
import { OrgkitError } from '@orgkit/core'
import { type Executor, groups, scim, type Tx } from '@orgkit/store'
import { invalid } from '../scim/protocol.ts'
import type { Ctx, DirectoryActor, RequestMeta, Work } from './context.ts'
import { write } from './context.ts'
import { guardOwners } from './owners.ts'

/**
 * A directory's groups (issue 21.3): ordinary Orgkit groups of its org (listed by GET /v1/orgs/{id}/groups,
 * bound to roles with the bindings API by the org's admins), marked as the directory's. Their members are
 * the directory's to set: a change is one write under the org's lock, so concurrent PATCHes of one group
 * queue and each applies its operations to the members the one before it left (no lost update), and the
 * engine answers from the new membership at its commit. A deactivated member is kept as the directory's
 * (shown among `members`) without access, and is back in the group when active again.
 */
export interface ScimGroupState {
  displayName: string
  externalId: string | null
  /** SCIM user ids. */
  members: string[]
}

export interface ScimGroupView {
  row: scim.ScimGroupRow
  members: { value: string; display: string }[]
}

async function found(db: Executor, orgId: string, id: string) {
  const row = await scim.findGroup(db, orgId, id)
  if (!row) throw new OrgkitError('SCIM_RESOURCE_NOT_FOUND', 'no such group', { id })
  return row
}

export async function viewGroup(db: Executor, orgId: string, id: string): Promise<ScimGroupView> {
  const row = await found(db, orgId, id)
  return { row, members: (await scim.groupMembers(db, orgId, [id])).get(id) ?? [] }
}

export async function listGroups(
  ctx: Ctx,
  dir: DirectoryActor,
  filter: scim.ScimFilter | null,
  page: scim.Page,
  withMembers: boolean,
): Promise<{ items: ScimGroupView[]; total: number }> {
  const { rows, total } = await scim.listGroups(ctx.db, dir.orgId, filter, page)
  const members = withMembers
    ? await scim.groupMembers(
        ctx.db,
        dir.orgId,
        rows.map((r) => r.id),
      )
    : new Map()
  return { items: rows.map((row) => ({ row, members: members.get(row.id) ?? [] })), total }
}

async function assertNameFree(tx: Tx, orgId: string, name: string, self: string | null) {
  const [other] = await groups.findGroupsByName(tx, orgId, [name])
  if (other && other.id !== self)
    throw new OrgkitError('SCIM_UNIQUENESS', 'the organization already has a group with this name', {
      scimType: 'uniqueness',
    })
}

function checkName(name: unknown): string {
  if (typeof name !== 'string' || name.trim().length === 0 || name.length > 200)
    throw invalid('invalidValue', 'displayName is 1 to 200 characters', { field: 'displayName' })
  return name
}

export async function createGroup(ctx: Ctx, dir: DirectoryActor, meta: RequestMeta, input: ScimGroupState) {
  const name = checkName(input.displayName)
  const { result } = await write(ctx, dir, meta, dir.orgId, async (work) => {
    await assertNameFree(work.tx, dir.orgId, name, null)
    const group = work.apply(
      await groups.insertGroup(work.tx, {
        id: randomUUID(),
        orgId: dir.orgId,
        name,
        description: '',
        role: null,
      }),
    )
    await scim.insertGroup(work.tx, {
      groupId: group.id,
      orgId: dir.orgId,
      externalId: input.externalId,
      now: new Date(ctx.clock()),
    })
    const members = await setMembers(work, ctx, dir.orgId, group.id, [], input.members)
    work.audit({
      orgId: dir.orgId,
      action: 'scim.group.created',
      targetType: 'group',
      targetId: group.id,
      after: { displayName: name, externalId: input.externalId, members },
    })
    return group.id
  })
  return viewGroup(ctx.db, dir.orgId, result)
}

/** PUT, or PATCH with its operations applied to the current state: the group as the directory says it is now. */
export async function replaceGroup(
  ctx: Ctx,
  dir: DirectoryActor,
  meta: RequestMeta,
  id: string,
  next: (current: ScimGroupState) => ScimGroupState,
) {
  await write(ctx, dir, meta, dir.orgId, async (work) => {
    const { row, members } = await viewGroup(work.tx, dir.orgId, id)
    const before: ScimGroupState = {
      displayName: row.name,
      externalId: row.external_id,
      members: members.map((m) => m.value),
    }
    const after = next(before)
    const name = checkName(after.displayName)
    if (name !== row.name) {
      await assertNameFree(work.tx, dir.orgId, name, id)
      work.apply(await groups.updateGroup(work.tx, id, { name }))
    }
    const set = await setMembers(work, ctx, dir.orgId, id, before.members, after.members)
    await scim.touchGroup(work.tx, dir.orgId, id, new Date(ctx.clock()), after.externalId)
    work.audit({
      orgId: dir.orgId,
      action: 'scim.group.updated',
      targetType: 'group',
      targetId: id,
      before,
      after: { displayName: name, externalId: after.externalId, members: set },
    })
  })
  return viewGroup(ctx.db, dir.orgId, id)
}

export async function deleteGroup(ctx: Ctx, dir: DirectoryActor, meta: RequestMeta, id: string) {
  await write(ctx, dir, meta, dir.orgId, async (work) => {
    const { row, members } = await viewGroup(work.tx, dir.orgId, id)
    // A role the org's admins bound to the group goes with it: the org keeps an owner.
    const owners = await guardOwners(ctx, work.tx, dir.orgId)
    await work.watchOwners(dir.orgId)
    work.apply(await groups.deleteGroup(work.tx, id))
    await scim.forgetSuspendedGroup(work.tx, dir.orgId, id)
    await owners.after()
    work.audit({
      orgId: dir.orgId,
      action: 'scim.group.deleted',
      targetType: 'group',
      targetId: id,
      before: { displayName: row.name, externalId: row.external_id, members: members.map((m) => m.value) },
    })
  })
}

/**
 * Makes the group's directory members exactly `next` (SCIM user ids of this org; another id is refused,
 * whoever's it is): active people join or leave the group itself, deactivated ones only the list of groups
 * they will rejoin. Taking people out can't leave the org without an owner. Answers the members set.
 */
async function setMembers(
  work: Work,
  ctx: Ctx,
  orgId: string,
  groupId: string,
  current: readonly string[],
  next: readonly string[],
): Promise<string[]> {
  const wanted = [...new Set(next)]
  const adding = wanted.filter((id) => !current.includes(id))
  const removing = current.filter((id) => !wanted.includes(id))
  if (adding.length === 0 && removing.length === 0) return wanted
  const people = await scim.usersByIds(work.tx, orgId, [...adding, ...removing])
  const byId = new Map(people.map((p) => [p.id, p]))
  const unknown = adding.filter((id) => !byId.has(id))
  if (unknown.length > 0)
    throw invalid('invalidValue', 'members are users of this directory', { field: 'members', unknown })
  const owners = removing.length > 0 ? await guardOwners(ctx, work.tx, orgId) : null
  if (owners) await work.watchOwners(orgId)
  for (const id of adding) {
    const person = byId.get(id)!
    if (person.active) work.apply(await groups.upsertGroupMember(work.tx, groupId, person.user_id, null))
    else await scim.setSuspendedGroups(work.tx, orgId, id, [...person.suspended_groups, groupId])
  }
  for (const id of removing) {
    const person = byId.get(id)
    if (!person) continue
    if (person.active) work.apply(await groups.deleteGroupMember(work.tx, groupId, person.user_id))
    else
      await scim.setSuspendedGroups(
        work.tx,
        orgId,
        id,
        person.suspended_groups.filter((g) => g !== groupId),
      )
  }
  await owners?.after()
  return wanted
}
