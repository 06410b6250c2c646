/**
 * How invoices get paid, behind one interface so a deployment can plug in its processor (see
 * docs/billing.md for the shape of a Stripe provider). Calls happen inside the write that issues or
 * settles the invoice, so a provider must be quick and idempotent on the invoice id.
 */
export interface InvoiceForPayment {
  id: string
  number: string
  orgId: string
  currency: string
  total: number
  billingEmail: string | null
}

export interface PaymentProvider {
  readonly name: string
  /**
   * An invoice was issued: ask the processor to collect it. Answers its reference and a payment page. Called
   * inside the invoice's write, which runs again after a deadlock: a processor keys its request on the
   * invoice's `number` (one per org and period), e.g. as an idempotency key, so a second call opens nothing new.
   */
  open(invoice: InvoiceForPayment): Promise<{ reference: string | null; paymentUrl: string | null }>
  /**
   * Someone marks an invoice paid through the API (`POST …/invoices/{id}/pay`). The manual provider takes
   * the operator's word for it; a processor-backed one refuses and relies on its own webhook instead.
   */
  acceptsManualPayment: boolean
}

/** Self-hosting: nothing is collected; the operator marks invoices paid with the platform token. */
export const manualProvider: PaymentProvider = {
  name: 'manual',
  open: async () => ({ reference: null, paymentUrl: null }),
  acceptsManualPayment: true,
}
