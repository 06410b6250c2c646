import { createRoute, z } from '@hono/zod-openapi'
import type { RouteModule } from '../env.ts'
import { body, errorResponses, IdParams, json, OrgParams, Uuid, written } from '../schemas.ts'
import * as invoices from '../services/invoices.ts'

const tags = ['Billing']
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
const Period = z
  .string()
  .regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'YYYY-MM')
  .openapi({ example: '2026-10' })

/** An org's monthly invoices: list, issue, read (JSON or printable HTML), mark paid. */
export const invoiceRoutes: RouteModule = (app, ctx) => {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/orgs/{orgId}/billing/invoices',
      tags,
      operationId: 'listInvoices',
      summary: 'List invoices',
      description: "The org's invoices, newest period first (org.read_invoices)",
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
      operationId: 'issueInvoice',
      summary: 'Issue an invoice',
      description: 'Issue the invoice of an ended month (platform token; the hourly job does it too)',
      request: { params: OrgParams, ...body(z.object({ period: Period.optional() }).strict()) },
      responses: { 201: json(Invoice.extend({ revision: z.number() }), 'Created'), ...errorResponses },
    }),
    async (c) => {
      const { orgId } = c.req.valid('param')
      return c.json(
        written(await invoices.issueInvoice(ctx, c.get('actor'), c.get('meta'), orgId, c.req.valid('json'))),
        201,
      )
    },
  )
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/orgs/{orgId}/billing/invoices/{id}',
      tags,
      operationId: 'getInvoice',
      summary: 'Get an invoice',
      description: 'One invoice, as JSON or (?format=html) a printable page (org.read_invoices)',
      request: {
        params: IdParams,
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
      operationId: 'payInvoice',
      summary: 'Mark an invoice paid',
      description: 'Mark an open invoice paid (manual provider; platform token)',
      request: {
        params: IdParams,
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
}
