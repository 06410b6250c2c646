import { createRoute, z } from '@hono/zod-openapi'
import type { RouteModule } from '../env.ts'
import { body, errorResponses, json, OrgParams, Uuid, withRevision, written } from '../schemas.ts'
import * as billing from '../services/billing.ts'
import * as credits from '../services/credits.ts'
import * as invoices from '../services/invoices.ts'
import * as usage from '../services/usage.ts'

const Plan = z
  .object({
    key: z.string(),
    name: z.string(),
    price: z.number().int(),
    seats: z.number().int().nullable(),
    resources: z.record(z.string(), z.number().int().nullable()),
    features: z.array(z.string()),
  })
  .openapi('Plan')
const Billing = z
  .object({
    orgId: Uuid,
    plan: Plan,
    billingEmail: z.string().nullable(),
    creditBalance: z.number().int(),
    currency: z.string(),
    provider: z.string(),
  })
  .openapi('Billing')
const CreditEntry = z
  .object({
    id: Uuid,
    kind: z.enum(['purchase', 'grant', 'consumption', 'refund']),
    amount: z.number().int(),
    balanceAfter: z.number().int(),
    description: z.string(),
    actor: z.object({ type: z.string(), id: z.string().nullable() }),
    createdAt: z.string(),
  })
  .openapi('CreditEntry')
const Invoice = z
  .object({
    id: Uuid,
    orgId: Uuid,
    number: z.string(),
    period: z.string(),
    plan: z.string(),
    currency: z.string(),
    lines: z.array(
      z.object({
        description: z.string(),
        quantity: z.number(),
        unitAmount: z.number(),
        amount: z.number(),
      }),
    ),
    total: z.number().int(),
    status: z.enum(['open', 'paid', 'void']),
    provider: z.string(),
    providerReference: z.string().nullable(),
    paymentUrl: z.string().nullable(),
    billingEmail: z.string().nullable(),
    issuedAt: z.string(),
    paidAt: z.string().nullable(),
  })
  .openapi('Invoice')
const Usage = z
  .object({
    orgId: Uuid,
    plan: z.string(),
    seats: z.object({
      used: z.number().int(),
      max: z.number().int().nullable(),
      members: z.number().int(),
      pendingInvitations: z.number().int(),
    }),
    resources: z.record(z.string(), z.object({ used: z.number().int(), max: z.number().int().nullable() })),
    checks: z.object({
      today: z.number().int(),
      daily: z.array(z.object({ day: z.string(), count: z.number().int() })),
    }),
  })
  .openapi('Usage')
const InvoiceParams = OrgParams.extend({ id: Uuid.openapi({ param: { name: 'id', in: 'path' } }) })
const Period = z
  .string()
  .regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'YYYY-MM')
  .openapi({ example: '2026-10' })

/** Plans, billing settings, credits, invoices and usage (issue #9, docs/billing.md). */
export const billingRoutes: RouteModule = (app, ctx) => {
  const tags = ['Billing']
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/plans',
      tags,
      summary: 'The plan catalogue',
      responses: {
        200: json(
          z.object({
            currency: z.string(),
            creditPrice: z.number().int(),
            defaultPlan: z.string(),
            items: z.array(Plan),
          }),
        ),
        ...errorResponses,
      },
    }),
    (c) => c.json(billing.listPlans(ctx), 200),
  )
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/orgs/{orgId}/billing',
      tags,
      summary: "The org's plan, billing email and credit balance (org.read_billing)",
      request: { params: OrgParams },
      responses: { 200: json(Billing), ...errorResponses },
    }),
    async (c) => c.json(await billing.getBilling(ctx, c.get('actor'), c.req.valid('param').orgId), 200),
  )
  app.openapi(
    createRoute({
      method: 'patch',
      path: '/v1/orgs/{orgId}/billing',
      tags,
      summary: 'Change the billing email (org.update_billing)',
      request: {
        params: OrgParams,
        ...body(z.object({ billingEmail: z.email().max(320).nullable() }).strict()),
      },
      responses: { 200: json(withRevision({ billingEmail: z.string().nullable() })), ...errorResponses },
    }),
    async (c) =>
      c.json(
        written(
          await billing.updateBilling(
            ctx,
            c.get('actor'),
            c.get('meta'),
            c.req.valid('param').orgId,
            c.req.valid('json'),
          ),
        ),
        200,
      ),
  )
  app.openapi(
    createRoute({
      method: 'put',
      path: '/v1/orgs/{orgId}/billing/plan',
      tags,
      summary: 'Move the org to another plan; a downgrade its usage exceeds is refused (org.update_billing)',
      request: { params: OrgParams, ...body(z.object({ plan: z.string().min(1).max(100) }).strict()) },
      responses: { 200: json(withRevision({ plan: Plan })), ...errorResponses },
    }),
    async (c) =>
      c.json(
        written(
          await billing.changePlan(
            ctx,
            c.get('actor'),
            c.get('meta'),
            c.req.valid('param').orgId,
            c.req.valid('json'),
          ),
        ),
        200,
      ),
  )
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/orgs/{orgId}/billing/credits',
      tags,
      summary: 'The credit balance and ledger, newest first (org.read_billing)',
      request: {
        params: OrgParams,
        query: z.object({
          cursor: z
            .string()
            .regex(/^\d{1,18}$/)
            .optional(),
          limit: z.coerce.number().int().min(1).max(500).default(50),
        }),
      },
      responses: {
        200: json(
          z.object({
            balance: z.number().int(),
            items: z.array(CreditEntry),
            nextCursor: z.string().nullable(),
          }),
        ),
        ...errorResponses,
      },
    }),
    async (c) =>
      c.json(
        await credits.listCredits(ctx, c.get('actor'), c.req.valid('param').orgId, c.req.valid('query')),
        200,
      ),
  )
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/orgs/{orgId}/billing/credits',
      tags,
      summary:
        'Add a ledger entry: a purchase (org.update_billing), or a grant, consumption or refund (platform token)',
      request: {
        params: OrgParams,
        ...body(
          z
            .object({
              kind: z.enum(['purchase', 'grant', 'consumption', 'refund']),
              amount: z.number().int().positive().max(1_000_000_000),
              description: z.string().max(500).optional(),
            })
            .strict(),
        ),
      },
      responses: { 201: json(CreditEntry.extend({ revision: z.number() }), 'Created'), ...errorResponses },
    }),
    async (c) =>
      c.json(
        written(
          await credits.addCredits(
            ctx,
            c.get('actor'),
            c.get('meta'),
            c.req.valid('param').orgId,
            c.req.valid('json'),
          ),
        ),
        201,
      ),
  )
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/orgs/{orgId}/billing/invoices',
      tags,
      summary: "The org's invoices, newest period first (org.read_invoices)",
      request: { params: OrgParams },
      responses: { 200: json(z.object({ items: z.array(Invoice) })), ...errorResponses },
    }),
    async (c) =>
      c.json({ items: await invoices.listInvoices(ctx, c.get('actor'), c.req.valid('param').orgId) }, 200),
  )
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/orgs/{orgId}/billing/invoices',
      tags,
      summary: 'Issue the invoice of an ended month (platform token; the hourly job does it too)',
      request: { params: OrgParams, ...body(z.object({ period: Period.optional() }).strict()) },
      responses: { 201: json(Invoice.extend({ revision: z.number() }), 'Created'), ...errorResponses },
    }),
    async (c) =>
      c.json(
        written(
          await invoices.issueInvoice(
            ctx,
            c.get('actor'),
            c.get('meta'),
            c.req.valid('param').orgId,
            c.req.valid('json'),
          ),
        ),
        201,
      ),
  )
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/orgs/{orgId}/billing/invoices/{id}',
      tags,
      summary: 'One invoice, as JSON or (?format=html) a printable page (org.read_invoices)',
      request: {
        params: InvoiceParams,
        query: z.object({ format: z.enum(['json', 'html']).default('json') }),
      },
      responses: {
        200: {
          description: 'The invoice',
          content: { 'application/json': { schema: Invoice }, 'text/html': { schema: z.string() } },
        },
        ...errorResponses,
      },
    }),
    async (c) => {
      const { orgId, id } = c.req.valid('param')
      if (c.req.valid('query').format === 'html') {
        const page = await invoices.invoicePage(ctx, c.get('actor'), orgId, id)
        return c.body(page, 200, {
          'content-type': 'text/html; charset=utf-8',
          // The page is a document to print or save, never a place to run anything.
          'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
          'content-disposition': `inline; filename="invoice-${id}.html"`,
        }) as never
      }
      return c.json(await invoices.getInvoice(ctx, c.get('actor'), orgId, id), 200)
    },
  )
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/orgs/{orgId}/billing/invoices/{id}/pay',
      tags,
      summary: 'Mark an open invoice paid (manual provider; platform token)',
      request: {
        params: InvoiceParams,
        ...body(z.object({ reference: z.string().max(200).optional() }).strict()),
      },
      responses: { 200: json(Invoice.extend({ revision: z.number() })), ...errorResponses },
    }),
    async (c) => {
      const { orgId, id } = c.req.valid('param')
      return c.json(
        written(
          await invoices.payInvoice(ctx, c.get('actor'), c.get('meta'), orgId, id, c.req.valid('json')),
        ),
        200,
      )
    },
  )
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/orgs/{orgId}/usage',
      tags,
      summary: 'Seats, resources and checks per day against the plan (org.read_billing)',
      request: {
        params: OrgParams,
        query: z.object({ days: z.coerce.number().int().min(1).max(366).default(30) }),
      },
      responses: { 200: json(Usage), ...errorResponses },
    }),
    async (c) =>
      c.json(
        await usage.getUsage(ctx, c.get('actor'), c.req.valid('param').orgId, c.req.valid('query')),
        200,
      ),
  )
}
