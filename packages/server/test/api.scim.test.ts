import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DATABASES, startTestServer, type TestServer } from './support/harness.ts'
import { type Directory, directory, entraUser, oktaUser, scimToken } from './support/scim.ts'

/**
 * SCIM 2.0 directory sync (issue 21.3), walked as Okta and Entra ID send it (their documented bodies, ops
 * in their case and value forms), with the error cases, tenant isolation, revocation, and what each
 * provisioning step does to access — asked of the engine through the check API, not of the SCIM records.
 */
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error'
const LIST = 'urn:ietf:params:scim:api:messages:2.0:ListResponse'

describe.each(DATABASES)('SCIM directory sync (%s)', (database) => {
  let server: TestServer
  let alice: string
  let org: string
  let okta: Directory
  let tokenId: string
  const may = async (userId: string, permission: string, orgId = org) =>
    (
      await server.platform.post('/v1/check', {
        subject: { type: 'user', id: userId },
        permission,
        resource: { org: orgId },
      })
    ).body.allowed as boolean
  const memberIds = async (orgId = org) =>
    (await server.as(alice).get(`/v1/orgs/${orgId}/members`)).body.items.map(
      (m: { userId: string }) => m.userId,
    )

  beforeAll(async () => {
    server = await startTestServer(database)
    alice = (await server.platform.post('/v1/users', { email: 'alice@acme.test', name: 'Alice' })).body.id
    org = (await server.as(alice).post('/v1/orgs', { name: 'Acme' })).body.id
    const made = await scimToken(server, org, alice)
    tokenId = made.id
    okta = directory(server, org, made.token)
  }, 120_000)
  afterAll(() => server?.stop())

  it('makes tokens a Super Admin’s act, shows the secret once and lists them without it', async () => {
    const bob = await server.user('Bob')
    await server.platform.post(`/v1/orgs/${org}/members`, { userId: bob, roles: ['org_member'] })
    const made = await server.as(alice).post(`/v1/orgs/${org}/scim-tokens`, { name: 'Entra' })
    expect(made.status).toBe(201)
    expect(made.body.token).toMatch(/^okd_[A-Za-z0-9_-]{43}$/)
    expect(made.body.scimBaseUrl).toMatch(new RegExp(`/scim/v2/orgs/${org}$`))
    const listed = await server.as(alice).get(`/v1/orgs/${org}/scim-tokens`)
    expect(listed.body.items.map((t: { id: string }) => t.id)).toContain(made.body.id)
    expect(JSON.stringify(listed.body)).not.toContain(made.body.token)
    expect(listed.body.items[0]).not.toHaveProperty('token')
    // A plain member may not; a stranger doesn't see the org at all.
    expect((await server.as(bob).post(`/v1/orgs/${org}/scim-tokens`, { name: 'x' })).body.code).toBe(
      'FORBIDDEN',
    )
    expect((await server.as(bob).get(`/v1/orgs/${org}/scim-tokens`)).body.code).toBe('FORBIDDEN')
    const stranger = await server.user('Stranger')
    expect((await server.as(stranger).post(`/v1/orgs/${org}/scim-tokens`, { name: 'x' })).status).toBe(404)
    expect((await server.as(bob).delete(`/v1/orgs/${org}/scim-tokens/${made.body.id}`)).status).toBe(403)
  })

  it('walks the Okta flow: provision, filter, read, deactivate, reactivate, delete', async () => {
    const email = 'test.user@okta.local'
    const created = await okta.post('/Users', oktaUser(email, '00ujl29u0le5T6Aj10h7'))
    expect(created.status).toBe(201)
    expect(created.headers.get('content-type')).toMatch(/^application\/scim\+json/)
    const user = created.body
    expect(user).toMatchObject({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName: email,
      externalId: '00ujl29u0le5T6Aj10h7',
      active: true,
      name: { givenName: 'Test', familyName: 'User' },
      meta: {
        resourceType: 'User',
        location: `${server.url}${okta.base}/Users/${user.id}`,
        version: 'W/"1"',
      },
    })
    expect(user).not.toHaveProperty('password')
    expect(created.headers.get('location')).toBe(user.meta.location)
    const person = (await server.platform.get(`/v1/users?email=${encodeURIComponent(email)}`)).body.items[0]
      .id
    expect(await memberIds()).toContain(person)
    const member = (await server.as(alice).get(`/v1/orgs/${org}/members`)).body.items.find(
      (m: { userId: string }) => m.userId === person,
    )
    expect(member.roles).toEqual(['org_member']) // the org's default role
    expect(await may(person, 'org.read')).toBe(true)

    const dup = await okta.post('/Users', oktaUser(email.toUpperCase(), 'other'))
    expect(dup.status).toBe(409)
    expect(dup.body).toMatchObject({ schemas: [ERROR], status: '409', scimType: 'uniqueness' })

    const found = await okta.get(
      `/Users?filter=${encodeURIComponent(`userName eq "${email}"`)}&startIndex=1&count=100`,
    )
    expect(found.body).toMatchObject({ schemas: [LIST], totalResults: 1, startIndex: 1, itemsPerPage: 1 })
    expect(found.body.Resources[0].id).toBe(user.id)
    const none = await okta.get(`/Users?filter=${encodeURIComponent('userName eq "nobody@okta.local"')}`)
    expect(none.body).toMatchObject({ totalResults: 0, Resources: [] })
    expect((await okta.get(`/Users/${user.id}`)).body.userName).toBe(email)

    const off = await okta.patch(`/Users/${user.id}`, [{ op: 'replace', value: { active: false } }])
    expect(off.status).toBe(200)
    expect(off.body.active).toBe(false)
    expect(await may(person, 'org.read')).toBe(false)
    expect(await memberIds()).not.toContain(person)
    expect((await okta.get(`/Users/${user.id}`)).body.active).toBe(false) // the record stays

    const on = await okta.patch(`/Users/${user.id}`, [{ op: 'replace', value: { active: true } }])
    expect(on.body.active).toBe(true)
    expect(await may(person, 'org.read')).toBe(true)

    const gone = await okta.delete(`/Users/${user.id}`)
    expect(gone.status).toBe(204)
    expect(await may(person, 'org.read')).toBe(false)
    const missing = await okta.get(`/Users/${user.id}`)
    expect(missing.status).toBe(404)
    expect(missing.body).toMatchObject({ schemas: [ERROR], status: '404' })
    // The account is the person's: it stays (they may be in other orgs).
    expect(
      (await server.platform.get(`/v1/users?email=${encodeURIComponent(email)}`)).body.items,
    ).toHaveLength(1)
  })

  it('walks the Entra flow: its body, externalId filter, capitalised ops and string booleans', async () => {
    const externalId = '0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef'
    const created = await okta.post(
      '/Users',
      entraUser('Test_User_ab6490ee@contoso.com', 'Test_User_fd0ea19b@testuser.com', externalId),
    )
    expect(created.status).toBe(201)
    const id = created.body.id
    expect(created.body.schemas).toContain('urn:ietf:params:scim:schemas:extension:enterprise:2.0:User')
    expect(created.body['urn:ietf:params:scim:schemas:extension:enterprise:2.0:User']).toEqual({
      employeeNumber: '701984',
      department: 'R&D',
    })
    // Entra's first question: is this person there already?
    const byExternal = await okta.get(`/Users?filter=${encodeURIComponent(`externalId eq "${externalId}"`)}`)
    expect(byExternal.body.Resources.map((u: { id: string }) => u.id)).toEqual([id])
    const byEmail = await okta.get(
      `/Users?filter=${encodeURIComponent('emails[value eq "test_user_fd0ea19b@testuser.com"] or userName eq "x"')}`,
    )
    expect(byEmail.body.totalResults).toBe(1)

    const patched = await okta.patch(`/Users/${id}`, [
      { op: 'Replace', path: 'emails[type eq "work"].value', value: 'updatedEmail@microsoft.com' },
      { op: 'Replace', path: 'name.familyName', value: 'updatedFamilyName' },
      { op: 'Add', path: 'displayName', value: 'Updated Name' },
      {
        op: 'Replace',
        path: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department',
        value: 'Ops',
      },
    ])
    expect(patched.status).toBe(200)
    expect(patched.body).toMatchObject({
      emails: [{ primary: true, type: 'work', value: 'updatedEmail@microsoft.com' }],
      name: { familyName: 'updatedFamilyName', givenName: 'givenName' },
      displayName: 'Updated Name',
      'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': {
        department: 'Ops',
        employeeNumber: '701984',
      },
      meta: { version: 'W/"2"' },
    })
    const person = (await server.platform.get('/v1/users?email=test_user_fd0ea19b%40testuser.com')).body
      .items[0].id
    expect(await may(person, 'org.read')).toBe(true)
    const off = await okta.patch(`/Users/${id}`, [{ op: 'Replace', path: 'active', value: 'False' }])
    expect(off.body.active).toBe(false)
    expect(await may(person, 'org.read')).toBe(false)
    await okta.patch(`/Users/${id}`, [{ op: 'Replace', path: 'active', value: 'True' }])
    expect(await may(person, 'org.read')).toBe(true)
    // PUT replaces what the directory says (application/json is taken too).
    const put = await okta.request(
      'PUT',
      `/Users/${id}`,
      {
        userName: 'Test_User_ab6490ee@contoso.com',
        externalId,
        active: true,
        emails: [{ value: 'x@contoso.com', primary: true }],
      },
      'application/json',
    )
    expect(put.status).toBe(200)
    expect(put.body).not.toHaveProperty('name')
  })

  it('makes directory groups ordinary groups: bound with the bindings API, members changing access at once', async () => {
    const users = await Promise.all(
      ['g1', 'g2', 'g3'].map(
        async (n) => (await okta.post('/Users', oktaUser(`${n}@okta.local`, `ext-${n}`))).body,
      ),
    )
    const person = async (scimUser: { emails: { value: string }[] }) =>
      (await server.platform.get(`/v1/users?email=${encodeURIComponent(scimUser.emails[0]!.value)}`)).body
        .items[0].id
    const [p1, p2, p3] = await Promise.all(users.map(person))
    const created = await okta.post('/Groups', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
      displayName: 'Engineering',
      members: [{ value: users[0].id }, { value: users[1].id }],
    })
    expect(created.status).toBe(201)
    const group = created.body
    expect(group).toMatchObject({
      displayName: 'Engineering',
      meta: { resourceType: 'Group', version: 'W/"1"' },
    })
    expect(group.members.map((m: { value: string }) => m.value).sort()).toEqual(
      [users[0].id, users[1].id].sort(),
    )

    const listed = (await server.as(alice).get(`/v1/orgs/${org}/groups`)).body.items
    expect(listed.find((g: { id: string }) => g.id === group.id)).toMatchObject({
      name: 'Engineering',
      managedBy: 'directory',
    })
    // Its name and members are the directory's; its roles are the admins'.
    const asAdmin = server.as(alice)
    const path = `/v1/orgs/${org}/groups/${group.id}`
    expect((await asAdmin.put(`${path}/members/${p3}`, {})).body.code).toBe('DIRECTORY_MANAGED')
    expect((await asAdmin.delete(`${path}/members/${p1}`)).body.code).toBe('DIRECTORY_MANAGED')
    expect((await asAdmin.patch(path, { name: 'Renamed' })).body.code).toBe('DIRECTORY_MANAGED')
    expect((await asAdmin.delete(path)).body.code).toBe('DIRECTORY_MANAGED')
    expect((await asAdmin.get(path)).body).toMatchObject({ name: 'Engineering', managedBy: 'directory' })
    const bound = await server.as(alice).post(`/v1/orgs/${org}/bindings`, {
      principal: { type: 'group', id: group.id },
      role: 'org_admin',
    })
    expect(bound.status).toBe(201)
    expect(await may(p1!, 'org.invite_user')).toBe(true)
    expect(await may(p3!, 'org.invite_user')).toBe(false)

    // Okta's remove by value filter, Entra's remove with a value list, and an add.
    await okta.patch(`/Groups/${group.id}`, [{ op: 'remove', path: `members[value eq "${users[0].id}"]` }])
    expect(await may(p1!, 'org.invite_user')).toBe(false)
    await okta.patch(`/Groups/${group.id}`, [
      { op: 'Remove', path: 'members', value: [{ $ref: null, value: users[1].id }] },
    ])
    expect(await may(p2!, 'org.invite_user')).toBe(false)
    const added = await okta.patch(`/Groups/${group.id}`, [
      { op: 'Add', path: 'members', value: [{ value: users[2].id }] },
      { op: 'replace', value: { id: group.id, displayName: 'Engineers' } },
    ])
    expect(added.status).toBe(204)
    expect(await may(p3!, 'org.invite_user')).toBe(true)

    // A deactivated member loses the group's role and keeps their place in it; active again, both are back.
    await okta.patch(`/Users/${users[2].id}`, [{ op: 'replace', value: { active: false } }])
    expect(await may(p3!, 'org.invite_user')).toBe(false)
    const held = await okta.get(`/Groups/${group.id}`)
    expect(held.body.members.map((m: { value: string }) => m.value)).toEqual([users[2].id])
    await okta.patch(`/Users/${users[2].id}`, [{ op: 'replace', value: { active: true } }])
    expect(await may(p3!, 'org.invite_user')).toBe(true)

    const byName = await okta.get(
      `/Groups?excludedAttributes=members&filter=${encodeURIComponent('displayName eq "engineers"')}`,
    )
    expect(byName.body.totalResults).toBe(1)
    expect(byName.body.Resources[0]).not.toHaveProperty('members')
    const put = await okta.put(`/Groups/${group.id}`, {
      displayName: 'Engineers',
      members: [{ value: users[0].id }],
    })
    expect(put.body.members.map((m: { value: string }) => m.value)).toEqual([users[0].id])
    expect(await may(p1!, 'org.invite_user')).toBe(true)
    expect(await may(p3!, 'org.invite_user')).toBe(false)

    expect((await okta.delete(`/Groups/${group.id}`)).status).toBe(204)
    expect(await may(p1!, 'org.invite_user')).toBe(false)
    expect(await may(p1!, 'org.read')).toBe(true)
    expect((await okta.get(`/Groups/${group.id}`)).status).toBe(404)
  })

  it('loses no member when a group is PATCHed concurrently', async () => {
    const group = (await okta.post('/Groups', { displayName: 'Busy', members: [] })).body
    const users = await Promise.all(
      Array.from(
        { length: 8 },
        async (_, i) => (await okta.post('/Users', oktaUser(`busy${i}@okta.local`, `busy${i}`))).body.id,
      ),
    )
    const replies = await Promise.all(
      users.map((id) =>
        okta.patch(`/Groups/${group.id}`, [{ op: 'add', path: 'members', value: [{ value: id }] }]),
      ),
    )
    expect(replies.map((r) => r.status)).toEqual(users.map(() => 204))
    const members = (await okta.get(`/Groups/${group.id}`)).body.members.map(
      (m: { value: string }) => m.value,
    )
    expect(members.sort()).toEqual([...users].sort())
  })

  it('answers errors in the SCIM schema', async () => {
    const bad = await okta.get(`/Users?filter=${encodeURIComponent('userName co "a"')}`)
    expect(bad.status).toBe(400)
    expect(bad.body).toMatchObject({ schemas: [ERROR], status: '400', scimType: 'invalidFilter' })
    expect((await okta.get(`/Users?filter=${encodeURIComponent('userName eq')}`)).body.scimType).toBe(
      'invalidFilter',
    )
    expect(
      (await okta.request('POST', '/Users', '{"userName":', 'application/scim+json')).body.scimType,
    ).toBe('invalidSyntax')
    expect((await okta.request('POST', '/Users', 'userName=x', 'text/plain')).status).toBe(415)
    const nul = await okta.post('/Users', { userName: 'nul\u0000@okta.local' })
    expect(nul.body).toMatchObject({ schemas: [ERROR], status: '400' })
    expect((await okta.post('/Users', { userName: 'not an email' })).body).toMatchObject({
      status: '400',
      scimType: 'invalidValue',
    })
    expect(
      (await okta.post('/Groups', { displayName: 'X', members: [{ value: 'nobody' }] })).body.scimType,
    ).toBe('invalidValue')
    expect(
      (
        await okta.patch('/Users/00000000-0000-4000-8000-000000000000', [
          { op: 'replace', value: { active: false } },
        ])
      ).status,
    ).toBe(404)
    expect((await okta.request('PATCH', '/Groups/x', { Operations: [{ op: 'move' }] })).body.scimType).toBe(
      'invalidSyntax',
    )
    const anonymous = await fetch(`${server.url}${okta.base}/Users`)
    expect(anonymous.status).toBe(401)
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer/)
    expect(await anonymous.json()).toMatchObject({ schemas: [ERROR], status: '401' })
  })

  it('refuses to deactivate the org’s creator (the last owner) and keeps her access', async () => {
    const linked = await okta.post('/Users', oktaUser('Alice@acme.test', 'alice'))
    expect(linked.status).toBe(201)
    const refused = await okta.patch(`/Users/${linked.body.id}`, [
      { op: 'replace', value: { active: false } },
    ])
    expect(refused.status).toBe(403)
    expect(refused.body).toMatchObject({ schemas: [ERROR], status: '403', code: 'CREATOR_ROLE_LOCKED' })
    expect(await may(alice, 'org.delete')).toBe(true)
  })

  it('audits every provisioning event as the directory token, each a webhook event', async () => {
    const hook = await server
      .as(alice)
      .post(`/v1/orgs/${org}/webhooks`, { url: 'http://127.0.0.1:9/hook', events: ['scim.*'] })
    expect(hook.status).toBe(201)
    const user = (await okta.post('/Users', oktaUser('audited@okta.local', 'audited'))).body
    await okta.patch(`/Users/${user.id}`, [{ op: 'replace', value: { active: false } }])
    const group = (await okta.post('/Groups', { displayName: 'Audited', members: [{ value: user.id }] })).body
    await okta.patch(`/Groups/${group.id}`, [{ op: 'remove', path: 'members' }])
    const entries = (await server.as(alice).get(`/v1/orgs/${org}/audit-logs?actorId=${tokenId}`)).body.items
    const actions = entries.map((e: { action: string }) => e.action)
    for (const action of [
      'scim.user.provisioned',
      'member.added',
      'scim.user.deactivated',
      'member.removed',
      'scim.group.created',
      'scim.group.updated',
    ])
      expect(actions).toContain(action)
    expect(entries[0].actor).toMatchObject({
      type: 'directory',
      id: tokenId,
      via: 'scim',
      credentialId: tokenId,
    })
    const deliveries = (await server.as(alice).get(`/v1/orgs/${org}/webhooks/${hook.body.id}/deliveries`))
      .body.items
    expect(deliveries.map((d: { type: string }) => d.type).sort()).toEqual(
      ['scim.group.created', 'scim.group.updated', 'scim.user.deactivated', 'scim.user.provisioned'].sort(),
    )
  })

  it('gives a token nothing of another org (404, never a hint) and answers 401 once it is revoked', async () => {
    const bea = await server.user('Bea')
    const orgB = (await server.as(bea).post('/v1/orgs', { name: 'Beta' })).body.id
    const b = directory(server, orgB, (await scimToken(server, orgB, bea)).token)
    const ours = (await okta.post('/Users', oktaUser('isolated@okta.local', 'isolated'))).body
    const ourGroup = (await okta.post('/Groups', { displayName: 'Isolated', members: [] })).body
    // B's token on A's resources, through B's own base URL: not found, as any unknown id.
    expect((await b.get(`/Users/${ours.id}`)).status).toBe(404)
    expect((await b.patch(`/Users/${ours.id}`, [{ op: 'replace', value: { active: false } }])).status).toBe(
      404,
    )
    expect((await b.delete(`/Groups/${ourGroup.id}`)).status).toBe(404)
    expect(
      (await b.get(`/Users?filter=${encodeURIComponent('userName eq "isolated@okta.local"')}`)).body
        .totalResults,
    ).toBe(0)
    expect((await b.post('/Groups', { displayName: 'X', members: [{ value: ours.id }] })).status).toBe(400)
    // B's token on A's base URL: the same 404 as an org that doesn't exist.
    const crossed = directory(server, org, (await scimToken(server, orgB, bea, 'B2')).token)
    const asOther = await crossed.get('/Users')
    const asNowhere = await directory(
      server,
      '00000000-0000-4000-8000-000000000000',
      (await scimToken(server, orgB, bea, 'B3')).token,
    ).get('/Users')
    expect(asOther.status).toBe(404)
    expect({ ...asOther.body, detail: '' }).toEqual({ ...asNowhere.body, detail: '' })
    expect((await okta.get(`/Users/${ours.id}`)).body.active).toBe(true)

    // Revoked: the very next request is refused — on another instance of the same database too.
    const other =
      database === 'postgres' ? await startTestServer(database, { postgres: server.postgres }) : null
    try {
      const elsewhere = other ? directory(other, org, okta.token) : null
      expect((await elsewhere?.get('/Users'))?.status ?? 200).toBe(200)
      const revoked = await server.as(alice).delete(`/v1/orgs/${org}/scim-tokens/${tokenId}`)
      expect(revoked.status).toBe(200)
      const after = await okta.get('/Users')
      expect(after.status).toBe(401)
      expect(after.body).toMatchObject({ schemas: [ERROR], status: '401' })
      expect((await elsewhere?.get('/Users'))?.status ?? 401).toBe(401)
    } finally {
      await other?.stop()
    }
    expect((await server.as(alice).delete(`/v1/orgs/${org}/scim-tokens/${tokenId}`)).body.code).toBe(
      'SCIM_TOKEN_NOT_FOUND',
    )
  })
})
