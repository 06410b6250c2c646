import { MAX_RESULTS, SCHEMAS } from './protocol.ts'

/** RFC 7644 section 4: what this SCIM service offers, for directories that ask before they send. */

const meta = (base: string, resourceType: string, path: string) => ({
  resourceType,
  location: `${base}${path}`,
})

export const serviceProviderConfig = (base: string) => ({
  schemas: [SCHEMAS.serviceProviderConfig],
  documentationUri: 'https://github.com/orgkit/orgkit/blob/main/docs/scim.md',
  patch: { supported: true },
  bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
  filter: { supported: true, maxResults: MAX_RESULTS },
  changePassword: { supported: false },
  sort: { supported: false },
  etag: { supported: true },
  authenticationSchemes: [
    {
      type: 'oauthbearertoken',
      name: 'Bearer token',
      description:
        'A directory token of the org (POST /v1/orgs/{orgId}/scim-tokens), sent as Authorization: Bearer',
      primary: true,
    },
  ],
  meta: meta(base, 'ServiceProviderConfig', '/ServiceProviderConfig'),
})

const resourceTypes = (base: string) => [
  {
    schemas: [SCHEMAS.resourceType],
    id: 'User',
    name: 'User',
    endpoint: '/Users',
    description: 'A person of the directory: a member of the organization while active',
    schema: SCHEMAS.user,
    schemaExtensions: [{ schema: SCHEMAS.enterprise, required: false }],
    meta: meta(base, 'ResourceType', '/ResourceTypes/User'),
  },
  {
    schemas: [SCHEMAS.resourceType],
    id: 'Group',
    name: 'Group',
    endpoint: '/Groups',
    description: 'A group of the organization, its members set by the directory',
    schema: SCHEMAS.group,
    meta: meta(base, 'ResourceType', '/ResourceTypes/Group'),
  },
]

export const resourceType = (base: string, id?: string) =>
  id === undefined ? resourceTypes(base) : resourceTypes(base).find((r) => r.id === id)

interface Attribute {
  name: string
  type: string
  multiValued: boolean
  required: boolean
  caseExact: boolean
  mutability: string
  returned: string
  uniqueness: string
  subAttributes?: Attribute[]
}

const attribute = (
  name: string,
  extra: Partial<{
    type: string
    multiValued: boolean
    required: boolean
    uniqueness: string
    mutability: string
  }> = {},
  subAttributes?: Attribute[],
): Attribute => ({
  name,
  type: extra.type ?? 'string',
  multiValued: extra.multiValued ?? false,
  required: extra.required ?? false,
  caseExact: false,
  mutability: extra.mutability ?? 'readWrite',
  returned: 'default',
  uniqueness: extra.uniqueness ?? 'none',
  ...(subAttributes && { subAttributes }),
})

const schemaList = (base: string) => [
  {
    schemas: [SCHEMAS.schema],
    id: SCHEMAS.user,
    name: 'User',
    description: 'User Account',
    attributes: [
      attribute('userName', { required: true, uniqueness: 'server' }),
      attribute('name', { type: 'complex' }, [
        attribute('formatted'),
        attribute('familyName'),
        attribute('givenName'),
        attribute('middleName'),
      ]),
      attribute('displayName'),
      attribute('active', { type: 'boolean' }),
      attribute('emails', { type: 'complex', multiValued: true }, [
        attribute('value'),
        attribute('type'),
        attribute('primary', { type: 'boolean' }),
      ]),
    ],
    meta: meta(base, 'Schema', `/Schemas/${SCHEMAS.user}`),
  },
  {
    schemas: [SCHEMAS.schema],
    id: SCHEMAS.group,
    name: 'Group',
    description: 'Group',
    attributes: [
      attribute('displayName', { required: true, uniqueness: 'server' }),
      attribute('members', { type: 'complex', multiValued: true }, [
        attribute('value', { mutability: 'immutable' }),
        attribute('display', { mutability: 'readOnly' }),
      ]),
    ],
    meta: meta(base, 'Schema', `/Schemas/${SCHEMAS.group}`),
  },
]

export const schema = (base: string, id?: string) =>
  id === undefined ? schemaList(base) : schemaList(base).find((s) => s.id === id)
