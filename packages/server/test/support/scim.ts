import type { TestServer } from './harness.ts'

/** A directory calling a test server's SCIM endpoints for one org, as Okta or Entra would. */
export interface ScimReply {
  status: number
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary SCIM replies
  body: any
  headers: Headers
}

export function directory(server: { url: string }, orgId: string, token: string) {
  const base = `/scim/v2/orgs/${orgId}`
  const request = async (
    method: string,
    path: string,
    body?: unknown,
    contentType = 'application/scim+json',
  ): Promise<ScimReply> => {
    const response = await fetch(server.url + base + path, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        accept: 'application/scim+json',
        ...(body !== undefined && { 'content-type': contentType }),
      },
      ...(body !== undefined && { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    })
    const text = await response.text()
    return { status: response.status, body: text ? JSON.parse(text) : null, headers: response.headers }
  }
  return {
    base,
    token,
    request,
    get: (path: string) => request('GET', path),
    post: (path: string, body: unknown) => request('POST', path, body),
    put: (path: string, body: unknown) => request('PUT', path, body),
    patch: (path: string, operations: unknown[]) =>
      request('PATCH', path, {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
        Operations: operations,
      }),
    delete: (path: string) => request('DELETE', path),
  }
}

export type Directory = ReturnType<typeof directory>

/** A new directory token of the org, made by one of its Super Admins. */
export async function scimToken(
  server: TestServer,
  orgId: string,
  asUser: string,
  name = 'Okta',
): Promise<{ id: string; token: string }> {
  const reply = await server.as(asUser).post(`/v1/orgs/${orgId}/scim-tokens`, { name })
  if (reply.status !== 201) throw new Error(`scim token: ${JSON.stringify(reply.body)}`)
  return { id: reply.body.id, token: reply.body.token }
}

/** Okta's user body (developer.okta.com, "SCIM 2.0 protocol reference", Create the user). */
export const oktaUser = (email: string, externalId: string) => ({
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
  userName: email,
  name: { givenName: 'Test', familyName: 'User' },
  emails: [{ primary: true, value: email, type: 'work' }],
  displayName: 'Test User',
  locale: 'en-US',
  externalId,
  groups: [],
  password: '1mz050nq',
  active: true,
})

/** Entra ID's user body (learn.microsoft.com, "Tutorial: Develop a SCIM endpoint", Create User). */
export const entraUser = (userName: string, email: string, externalId: string) => ({
  schemas: [
    'urn:ietf:params:scim:schemas:core:2.0:User',
    'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
  ],
  externalId,
  userName,
  active: true,
  emails: [{ primary: true, type: 'work', value: email }],
  meta: { resourceType: 'User' },
  name: { formatted: 'givenName familyName', familyName: 'familyName', givenName: 'givenName' },
  roles: [],
  'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': {
    employeeNumber: '701984',
    department: 'R&D',
  },
})
