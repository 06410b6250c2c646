import { z } from '@hono/zod-openapi'
import type { App } from '../env.ts'
import { CHECKPOINT_EVENT } from './checkpoints.ts'

/**
 * The webhook event catalogue: every type an org's endpoints can receive, as the OpenAPI document's
 * `webhooks` section lists them. Each audited org action is an event (webhooks/outbox.ts), so an action a
 * service writes with an org is catalogued here; test/openapi.contract.test.ts fails on one that isn't.
 * Billing events go only to endpoints that name them (`billing.*`, org.read_billing_audit).
 */
export const WEBHOOK_EVENTS = {
  'org.created': 'An organization was created (its creator joined it)',
  'org.updated': "An organization's profile or settings changed",
  'org.deleted': 'An organization was deleted, with its sub-organizations',
  'org.transferred': "An organization's ownership moved to another member",
  'org.security_changed': "An organization's security policy (2FA, password rules) changed",
  'member.added': 'Someone joined the organization, with the roles they were given',
  'member.removed': 'Someone left or was removed from the organization',
  'member.roles_changed': "A member's organization roles changed",
  'invitation.created': 'An invitation was sent',
  'invitation.resent': 'An invitation was sent again',
  'invitation.revoked': 'An invitation was withdrawn',
  'invitation.accepted': 'An invitation was accepted',
  'resource.created': 'A resource (an app, a channel, …) was created',
  'resource.updated': 'A resource was renamed or moved',
  'resource.deleted': 'A resource was deleted, with its children',
  'resource.transferred':
    'A resource moved to another organization or parent, with its children (sent to both orgs)',
  'binding.created': 'A role was granted to a user or group at a scope',
  'binding.updated': "A role grant's expiry or reason changed",
  'binding.deleted': 'A role grant was removed',
  'override.set': 'A per-resource allow / deny override was set or cleared',
  'group.created': 'A group was created',
  'group.updated': 'A group was renamed or its role changed',
  'group.deleted': 'A group was deleted',
  'group.member_set': 'A user was put in a group (or their place in it changed)',
  'group.member_removed': 'A user was taken out of a group',
  'role.created': 'A custom role was created',
  'role.updated': "A custom role's label or permissions changed",
  'role.deleted': 'A custom role was deleted',
  'api_key.revoked': 'An API key acting in the organization was revoked',
  'webhook.created': 'A webhook endpoint was added',
  'webhook.updated': "A webhook endpoint's URL, events or state changed",
  'webhook.deleted': 'A webhook endpoint was removed',
  'webhook.redelivered': 'A delivery was sent again on request',
  'webhook.secret_rotated':
    "A webhook endpoint's signing secret was replaced (the old one signs for 24 hours more)",
  'domain.added': 'A domain was claimed for the organization',
  'domain.updated': "A claimed domain's joining settings changed",
  'domain.verified': 'A claimed domain was verified by its DNS TXT record',
  'domain.deleted': 'A claimed domain was released',
  'sso_connection.created': 'An SSO connection (OIDC or SAML) was added',
  'sso_connection.updated': 'An SSO connection changed',
  'sso_connection.tested': 'An SSO connection completed a test sign-in',
  'sso_connection.deleted': 'An SSO connection was removed',
  'sso.policy_updated': "The organization's SSO requirement changed",
  'scim.token.created': 'A SCIM directory token was created',
  'scim.token.revoked': 'A SCIM directory token was revoked',
  'scim.user.provisioned': 'The directory provisioned a user',
  'scim.user.updated': 'The directory updated a user',
  'scim.user.deactivated': 'The directory deactivated a user: their access to the organization ended',
  'scim.user.reactivated': 'The directory reactivated a user: a member again, with the default role',
  'scim.user.deleted': 'The directory deprovisioned a user',
  'scim.group.created': 'The directory created a group',
  'scim.group.updated': "The directory changed a group's name or members",
  'scim.group.deleted': 'The directory deleted a group',
  'billing.plan_changed': "The organization's plan changed",
  'billing.email_changed': "The organization's billing email changed",
  'billing.invoice_issued': 'A monthly invoice was issued',
  'billing.invoice_paid': 'An invoice was paid',
} as const satisfies Record<string, string>

const CHECKPOINT_SUMMARY = "The org's audit head since the last checkpoint, signed"

/** The catalogue as the API lists it (GET /v1/webhook-event-types): what an endpoint can subscribe to. */
export function eventCatalogue() {
  return [
    ...Object.entries(WEBHOOK_EVENTS).map(([type, description]) => ({
      type,
      description,
      billing: type.startsWith('billing.'),
    })),
    { type: CHECKPOINT_EVENT, description: CHECKPOINT_SUMMARY, billing: false },
  ]
}

export type WebhookEventType = keyof typeof WEBHOOK_EVENTS | typeof CHECKPOINT_EVENT

const ORG_ID = '0b6f1c9e-6a4e-4d0b-9c51-2f7f3c1b7a10'
const USER_ID = '5d2c8a41-3f0e-4b7a-8e19-6c0d4f2b9e37'

/** What an audited event carries: the audit entry it was written with (GET /v1/orgs/{orgId}/audit). */
const AuditEventData = z
  .object({
    orgId: z.uuid(),
    actor: z.object({
      type: z.string().openapi({ description: '`user`, `platform`, `api_key` or `directory`' }),
      id: z.string().nullable(),
      via: z.string().nullable().openapi({ description: '`session`, `api_key`, `host_token` or `platform`' }),
      credentialId: z
        .string()
        .nullable()
        .openapi({ description: "The platform token's id when it acted as a person" }),
    }),
    target: z.object({ type: z.string(), id: z.string().nullable() }),
    before: z.unknown().openapi({ description: 'What changed, before (null for a creation)' }),
    after: z.unknown().openapi({ description: 'What changed, after (null for a deletion)' }),
    requestId: z.string().nullable(),
    auditSeq: z
      .string()
      .nullable()
      .openapi({ description: "The entry's place in the org's hash-chained audit log" }),
  })
  .openapi('AuditEventData', {
    example: {
      orgId: ORG_ID,
      actor: { type: 'user', id: USER_ID, via: 'session', credentialId: null },
      target: { type: 'user', id: '8a1e2f3b-4c5d-4e6f-8a7b-9c0d1e2f3a4b' },
      before: null,
      after: { roles: ['org_member'], via: 'invitation' },
      requestId: 'req_2b7c9d',
      auditSeq: '42',
    },
  })

/** `audit.checkpoint`: the org's audit head, signed, so a receiver can tell a cut or rewritten tail. */
const CheckpointEventData = z
  .object({ orgId: z.uuid(), seq: z.string(), hash: z.string(), at: z.string() })
  .openapi('AuditCheckpointData', {
    example: {
      orgId: ORG_ID,
      seq: '42',
      hash: 'b1946ac92492d2347c6235b4d2611184',
      at: '2026-12-01T10:00:00.000Z',
    },
  })

/** The Standard Webhooks headers every delivery carries (the signature covers id, timestamp and body). */
const DeliveryHeaders = z.object({
  'webhook-id': z
    .string()
    .openapi({ description: "The event's id: the same on every attempt, for deduplication" }),
  'webhook-timestamp': z.string().openapi({ description: 'Unix seconds when this attempt was signed' }),
  'webhook-signature': z
    .string()
    .openapi({ description: '`v1,<base64 HMAC-SHA256>` with the endpoint secret (Standard Webhooks)' }),
})

const envelope = (type: string, data: z.ZodType) =>
  z.object({
    type: z.literal(type),
    timestamp: z.string().openapi({ description: 'When the event happened (ISO 8601)' }),
    data,
  })

/** Which endpoints an event reaches (outbox.ts `subscribed`). */
const audience = (type: string) =>
  type.startsWith('billing.')
    ? `\`${type}\` or \`billing.*\` (billing events go only to endpoints that name them)`
    : `\`${type}\`, \`${type.split('.')[0]}.*\` or all events`

/** `member.added` → `memberAddedEvent`: the webhook's operationId, unique beside the API's. */
const operationIdOf = (type: string) =>
  `${type.replace(/[._]([a-z])/g, (_, c: string) => c.toUpperCase())}Event`

/** Registers one OpenAPI 3.1 webhook per catalogued event type, each with its payload's schema. */
export function documentWebhookEvents(app: App): void {
  const events: [string, string, z.ZodType][] = [
    ...Object.entries(WEBHOOK_EVENTS).map(([type, summary]): [string, string, z.ZodType] => [
      type,
      summary,
      AuditEventData,
    ]),
    [CHECKPOINT_EVENT, CHECKPOINT_SUMMARY, CheckpointEventData],
  ]
  for (const [type, summary, data] of events)
    app.openAPIRegistry.registerWebhook({
      method: 'post',
      path: type,
      operationId: operationIdOf(type),
      tags: ['Webhook events'],
      summary,
      description: `Sent to the org's endpoints subscribed to ${audience(type)}; retried with back-off until a 2xx.`,
      security: [],
      request: {
        headers: DeliveryHeaders,
        body: { content: { 'application/json': { schema: envelope(type, data) } } },
      },
      responses: {
        200: { description: 'Received: any 2xx ends the retries' },
        410: { description: 'Gone: any other answer is retried, up to the last attempt' },
      },
    })
}
