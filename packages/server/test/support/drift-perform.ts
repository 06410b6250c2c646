import { type Action, type Pick, type Principal, vocabulary } from './drift-actions.ts'
import { type Caller, type DriftWorld, MISSING } from './drift-world.ts'
import { solveCaptcha } from './harness.ts'

/** Passwords: the first is every sign-up's; they meet the lax policy, only the second the strict one. */
const PASSWORDS = ['correct horse battery staple', 'Tr0ub4dor&3 Horse!', 'shortpw9']
const POLICIES = {
  strict: { minLength: 12, requireUpper: true, requireDigit: true, requireSpecial: true, rejectCommon: true },
  lax: { minLength: 8, requireUpper: false, requireDigit: false, requireSpecial: false, rejectCommon: true },
}
/** The nth of a list (-1: an id nobody holds); MISSING stands in for an empty list too. */
const idOf = <T extends { id: string } | string>(w: DriftWorld, list: readonly T[], n: Pick): string => {
  const found = w.pick(list, n)
  if (found === undefined) return MISSING
  return typeof found === 'string' ? found : found.id
}

/** Performs one action against the server, recording what it made in the world. */
export async function perform(w: DriftWorld, action: Action): Promise<void> {
  const v = vocabulary(w.model)
  const user = (n: Pick) => w.pick(w.users, n)
  const userId = (n: Pick) => idOf(w, w.users, n)
  const org = (n: Pick) => idOf(w, w.orgs, n)
  const role = (n: Pick, from: readonly string[] = v.roles) => w.pick(from, n) ?? 'no_such_role'
  const custom = (orgId: string | undefined) => (orgId === undefined ? undefined : w.customRoles.get(orgId))
  /** A user, or a group of the org (a user when the org has none yet: a binding to nobody tests nothing). */
  const principalOf = (p: Principal, orgId: string) => {
    const groups = w.groups.filter((g) => g.orgId === orgId)
    if ('group' in p && (groups.length > 0 || p.group < 0))
      return { type: 'group', id: idOf(w, groups, p.group) }
    return { type: 'user', id: userId('user' in p ? p.user : p.group) }
  }
  const at = (hours: number | null) =>
    hours === null ? undefined : new Date(w.server.ctx.clock() + hours * 3_600_000).toISOString()
  const as = (u: { id: string } | undefined): Caller =>
    u ? { client: w.server.as(u.id), label: w.names.get(u.id)! } : w.actor('platform')

  switch (action.do) {
    case 'createUser': {
      const email = w.newEmail()
      const r = await w.send(w.actor('platform'), 'POST', '/v1/users', { email, name: email })
      if (r.status === 201)
        w.users.push({ id: w.track(r.body.id, 'u'), email, password: null, recoveryCodes: [] })
      return
    }
    case 'signUp': {
      const invitation = action.invitation === null ? undefined : w.pick(w.invitations, action.invitation)
      const email = invitation?.email ?? w.newEmail()
      const password = PASSWORDS[0]!
      const body = { email, password, name: email, ...(invitation && { invitation: invitation.token }) }
      const r = await w.anonymous('/v1/auth/signup', body, true)
      let id: string | undefined = r.status === 201 ? r.body.userId : undefined
      if (r.status === 200) {
        const token = await w.mailToken(email, 'verify?token=')
        const verified = token ? await w.anonymous('/v1/auth/verify', { token }) : null
        if (verified?.status === 200) id = verified.body.userId
      }
      if (id === undefined || w.users.some((u) => u.id === id)) return
      w.users.push({ id: w.track(id, 'u'), email, password, recoveryCodes: [] })
      // A personal org (seed 004) is made with the account.
      const seen = await w.server.as(id).get('/v1/orgs')
      for (const o of seen.body.items ?? []) if (!w.orgs.includes(o.id)) w.orgs.push(w.track(o.id, 'org'))
      return
    }
    case 'createOrg': {
      const parentId = action.parent === null ? undefined : org(action.parent)
      const r = await w.send(w.actor(action.by), 'POST', '/v1/orgs', {
        name: 'org',
        ...(parentId && { parentId }),
      })
      if (r.status === 201) {
        w.orgs.push(w.track(r.body.id, 'org'))
        await discoverGroups(w, r.body.id)
      }
      return
    }
    case 'updateOrg': {
      const body = {
        ...(action.parent !== undefined && { parentId: action.parent === null ? null : org(action.parent) }),
        ...(action.singleRoleTeams !== undefined && { singleRoleTeams: action.singleRoleTeams }),
        ...(action.teamAccess !== undefined && { resourceAdminsGrantTeamAccess: action.teamAccess }),
        ...(action.rename && { name: 'renamed' }),
      }
      await w.send(w.actor(action.by), 'PATCH', `/v1/orgs/${org(action.org)}`, body)
      return
    }
    case 'deleteOrg':
      await w.send(w.actor(action.by), 'DELETE', `/v1/orgs/${org(action.org)}`)
      return
    case 'transferOrg':
      await w.send(w.actor(action.by), 'POST', `/v1/orgs/${org(action.org)}/transfer`, {
        userId: userId(action.to),
      })
      return
    case 'addMember': {
      const roles = action.roles.map((n) => role(n, v.orgRoles(custom(org(action.org)))))
      const body = { userId: userId(action.user), ...(roles.length > 0 && { roles }) }
      await w.send(w.actor(action.by), 'POST', `/v1/orgs/${org(action.org)}/members`, body)
      return
    }
    case 'setRoles':
      await w.send(
        w.actor(action.by),
        'PATCH',
        `/v1/orgs/${org(action.org)}/members/${userId(action.user)}`,
        {
          roles: action.roles.map((n) => role(n, v.orgRoles(custom(org(action.org))))),
        },
      )
      return
    case 'removeMember':
      await w.send(w.actor(action.by), 'DELETE', `/v1/orgs/${org(action.org)}/members/${userId(action.user)}`)
      return
    case 'invite': {
      const orgId = org(action.org)
      const email = action.to === 'new' ? w.newEmail() : (user(action.to)?.email ?? w.newEmail())
      const caller = w.actor(action.by)
      const captcha = caller.label === 'platform' ? undefined : await solveCaptcha(w.server.url)
      const body = { email, role: role(action.role, v.orgRoles(custom(orgId))), ...(captcha && { captcha }) }
      const r = await w.send(caller, 'POST', `/v1/orgs/${orgId}/invitations`, body)
      const token = r.status === 201 ? await w.mailToken(email, 'invitations/') : null
      if (token) w.invitations.push({ id: r.body.id, orgId, email, token })
      return
    }
    case 'join': {
      const invited = w.invitations.length
      await perform(w, { ...action, do: 'invite' })
      if (w.invitations.length === invited) return
      const email = w.invitations[invited]!.email
      if (w.users.some((u) => u.email === email))
        await perform(w, { do: 'accept', invitation: invited, by: 'invitee' })
      else await perform(w, { do: 'signUp', invitation: invited })
      return
    }
    case 'accept': {
      const invitation = w.pick(w.invitations, action.invitation)
      if (!invitation) return w.note('accept: no invitation yet')
      const by = action.by === 'invitee' ? w.users.find((u) => u.email === invitation.email) : user(action.by)
      if (!by) return w.note(`accept: ${invitation.email} has no account yet`)
      await w.send(as(by), 'POST', `/v1/invitations/${invitation.token}/accept`)
      return
    }
    case 'revokeInvitation': {
      const invitation = w.pick(w.invitations, action.invitation)
      if (!invitation && action.invitation >= 0) return w.note('revokeInvitation: no invitation yet')
      const path = invitation
        ? `/v1/orgs/${invitation.orgId}/invitations/${invitation.id}`
        : `/v1/orgs/${MISSING}/invitations/${MISSING}`
      await w.send(w.actor(action.by), 'DELETE', path)
      return
    }
    case 'createResource': {
      const orgId = org(action.org)
      const parentType = w.model.resourceTypes[action.type]!.parent
      const parents = w.resources.filter((r) => r.type === parentType)
      const parentId = parentType === 'org' ? undefined : idOf(w, parents, action.parent)
      const body = { type: action.type, name: action.type, ...(parentId && { parentId }) }
      const r = await w.send(w.actor(action.by), 'POST', `/v1/orgs/${orgId}/resources`, body)
      if (r.status === 201)
        w.resources.push({ id: w.track(r.body.id, action.type), orgId, type: action.type })
      return
    }
    case 'renameResource':
    case 'deleteResource': {
      const resource = w.pick(w.resources, action.resource)
      if (!resource && action.resource >= 0) return w.note(`${action.do}: no resource yet`)
      const path = `/v1/orgs/${resource?.orgId ?? MISSING}/resources/${resource?.id ?? MISSING}`
      if (action.do === 'renameResource') await w.send(w.actor(action.by), 'PATCH', path, { name: 'renamed' })
      else await w.send(w.actor(action.by), 'DELETE', path)
      return
    }
    case 'createGroup': {
      const orgId = org(action.org)
      const body = {
        name: `group ${w.groups.length}`,
        ...(action.role !== null && { role: role(action.role, v.groupRoles(custom(orgId))) }),
      }
      const r = await w.send(w.actor(action.by), 'POST', `/v1/orgs/${orgId}/groups`, body)
      if (r.status === 201) w.groups.push({ id: w.track(r.body.id, 'group'), orgId })
      return
    }
    case 'updateGroup':
    case 'deleteGroup':
    case 'putGroupMember':
    case 'removeGroupMember': {
      const group = w.pick(w.groups, action.group)
      if (!group && action.group >= 0) return w.note(`${action.do}: no group yet`)
      const path = `/v1/orgs/${group?.orgId ?? MISSING}/groups/${group?.id ?? MISSING}`
      const caller = w.actor(action.by)
      if (action.do === 'updateGroup')
        await w.send(caller, 'PATCH', path, {
          role: action.role === null ? null : role(action.role, v.groupRoles(custom(group?.orgId))),
        })
      else if (action.do === 'deleteGroup') await w.send(caller, 'DELETE', path)
      else if (action.do === 'putGroupMember') {
        const body =
          action.memberRole === null
            ? {}
            : { memberRole: role(action.memberRole, v.groupRoles(custom(group?.orgId))) }
        await w.send(caller, 'PUT', `${path}/members/${userId(action.user)}`, body)
      } else await w.send(caller, 'DELETE', `${path}/members/${userId(action.user)}`)
      return
    }
    case 'bind': {
      const orgId = org(action.org)
      const resource =
        action.on === null
          ? undefined
          : w.pick(
              w.resources.filter((r) => r.orgId === orgId),
              action.on,
            )
      const expiresAt = at(action.expiresInHours)
      const body = {
        principal: principalOf(action.principal, orgId),
        role: role(action.role, action.anyRole ? v.roles : v.rolesAt(resource?.type ?? 'org', custom(orgId))),
        ...(resource && { resourceId: resource.id }),
        ...(expiresAt && { expiresAt }),
      }
      await w.send(w.actor(action.by), 'POST', `/v1/orgs/${orgId}/bindings`, body)
      return
    }
    case 'unbind': {
      const orgId = org(action.org)
      const listed = await w.server.platform.get(`/v1/orgs/${orgId}/bindings`)
      // By what the run named, not by id: the same binding is picked when the run is replayed.
      const bindings = (
        (listed.body?.items ?? []) as {
          id: string
          principal: { id: string }
          role: string
          scope: { id: string }
        }[]
      )
        .map((b) => ({
          id: b.id,
          key: `${w.names.get(b.scope.id)}|${w.names.get(b.principal.id)}|${b.role}`,
        }))
        .sort((x, y) => x.key.localeCompare(y.key))
      await w.send(
        w.actor(action.by),
        'DELETE',
        `/v1/orgs/${orgId}/bindings/${idOf(w, bindings, action.binding)}`,
      )
      return
    }
    case 'override': {
      const resource = w.pick(w.resources, action.resource)
      if (!resource && action.resource >= 0) return w.note(`${action.do}: no resource yet`)
      const orgId = resource?.orgId ?? MISSING
      const own = v.overridable.filter((p) => w.model.permissions[p]!.on === resource?.type)
      const permission = w.pick(own.length > 0 ? own : v.permissions, action.permission)!
      const body = { principal: principalOf(action.principal, orgId), permission, effect: action.effect }
      await w.send(
        w.actor(action.by),
        'PUT',
        `/v1/orgs/${orgId}/resources/${resource?.id ?? MISSING}/overrides`,
        body,
      )
      return
    }
    case 'createRole': {
      const orgId = org(action.org)
      const scope = w.pick(v.scopes, action.scope)!
      const body = {
        key: action.key,
        scope,
        slot: w.pick(v.slots, action.slot)!,
        label: action.key,
        permissions: [...new Set(action.permissions.map((n) => w.pick(v.heldAt(scope), n)!))],
        priority: action.priority,
      }
      const r = await w.send(w.actor(action.by), 'POST', `/v1/orgs/${orgId}/roles`, body)
      if (r.status === 201)
        w.customRoles.set(orgId, (w.customRoles.get(orgId) ?? new Map()).set(action.key, scope))
      return
    }
    case 'updateRole': {
      const orgId = org(action.org)
      const held = v.heldAt(w.customRoles.get(orgId)?.get(action.key) ?? 'org')
      const body = {
        ...(action.permissions && {
          permissions: [...new Set(action.permissions.map((n) => w.pick(held, n)!))],
        }),
        ...(action.priority !== null && { priority: action.priority }),
      }
      await w.send(w.actor(action.by), 'PATCH', `/v1/orgs/${orgId}/roles/${action.key}`, body)
      return
    }
    case 'deleteRole': {
      const orgId = org(action.org)
      const query =
        action.bindings === 'none'
          ? ''
          : `?bindings=${action.bindings}${action.bindings === 'reassign' ? `&to=${role(action.to)}` : ''}`
      const r = await w.send(w.actor(action.by), 'DELETE', `/v1/orgs/${orgId}/roles/${action.key}${query}`)
      if (r.status === 200) w.customRoles.get(orgId)?.delete(action.key)
      return
    }
    case 'createKey': {
      const owner = user(action.owner)
      const unique = (ids: string[]) => [...new Set(ids)]
      const expiresAt = at(action.expiresInHours)
      const body = {
        name: 'key',
        ...(action.orgs && { orgIds: unique(action.orgs.map(org)) }),
        ...(action.resources && {
          resourceIds: unique(action.resources.map((n) => idOf(w, w.resources, n))),
        }),
        ...(action.permissions && {
          permissions: unique(action.permissions.map((n) => w.pick(v.permissions, n)!)),
        }),
        ...(action.role !== null && { role: w.pick(v.modelRoles, action.role) }),
        ...(expiresAt && { expiresAt }),
      }
      const r = await w.send(as(owner), 'POST', '/v1/me/api-keys', body)
      if (r.status === 201 && owner)
        w.keys.push({ id: w.track(r.body.id, 'key'), secret: r.body.secret, ownerId: owner.id })
      return
    }
    case 'revokeKey': {
      const key = w.pick(w.keys, action.key)
      if (!key && action.key >= 0) return w.note(`${action.do}: no key yet`)
      const by = action.by === 'owner' ? w.users.find((u) => u.id === key?.ownerId) : user(action.by)
      await w.send(as(by), 'DELETE', `/v1/me/api-keys/${key?.id ?? MISSING}`)
      return
    }
    case 'security': {
      const body = {
        requireMfa: action.requireMfa,
        passwordPolicy: action.passwordPolicy && POLICIES[action.passwordPolicy],
        apiKeyPolicy: action.keysExpire ? { requireExpiry: true, maxDays: 30 } : null,
      }
      await w.send(w.actor(action.by), 'PUT', `/v1/orgs/${org(action.org)}/security`, body)
      return
    }
    case 'enableMfa': {
      const u = user(action.user)
      const enrol = await w.send(as(u), 'POST', '/v1/me/mfa/totp')
      if (enrol.status !== 200 || !u) return
      const r = await w.send(as(u), 'POST', '/v1/me/mfa/totp/confirm', { code: w.totp(enrol.body.secret) })
      if (r.status === 200) u.recoveryCodes = r.body.recoveryCodes
      return
    }
    case 'disableMfa': {
      const u = user(action.user)
      const body = { password: u?.password ?? PASSWORDS[2], recoveryCode: u?.recoveryCodes.at(-1) ?? 'none' }
      const r = await w.send(as(u), 'DELETE', '/v1/me/mfa/totp', body)
      if (r.status === 200 && u) u.recoveryCodes = []
      return
    }
    case 'changePassword': {
      const u = user(action.user)
      const next = PASSWORDS[action.next]!
      const r = await w.send(as(u), 'POST', '/v1/me/password', { current: u?.password ?? PASSWORDS[2], next })
      if (r.status === 200 && u) u.password = next
      return
    }
    case 'login': {
      const u = user(action.user)
      if (!u?.password) return w.note('login: no password')
      const code = u.recoveryCodes.at(-1)
      const r = await w.anonymous('/v1/auth/login', {
        email: u.email,
        password: u.password,
        ...(code && { recoveryCode: code }),
      })
      if (r.status === 200 && code) u.recoveryCodes.pop()
      return
    }
    case 'tick':
      w.advance(action.hours * 3_600_000)
      return w.note(`the clock moves ${action.hours} h`)
  }
}

/** The groups an org starts with (seed 003's Owners team, seed 002's DEFAULT and ADMIN). */
async function discoverGroups(w: DriftWorld, orgId: string): Promise<void> {
  const listed = await w.server.platform.get(`/v1/orgs/${orgId}/groups`)
  for (const g of listed.body?.items ?? []) {
    if (!w.groups.some((x) => x.id === g.id)) w.groups.push({ id: w.track(g.id, 'group'), orgId })
  }
}
