/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(value: unknown): string {
  return String(value ?? '')
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;')
}

export interface InvoiceDocument {
  number: string
  period: string
  status: string
  currency: string
  issuedAt: string
  paidAt: string | null
  billingEmail: string | null
  org: { id: string; name: string }
  plan: string
  lines: { description: string; quantity: number; unitAmount: number; amount: number }[]
  total: number
}

const money = (minor: number, currency: string) => `${(minor / 100).toFixed(2)} ${currency.toUpperCase()}`

/**
 * A printable invoice. Every value that came from a user (org name, billing email, plan names from the
 * config, descriptions) is escaped; the page loads nothing and runs no script.
 */
export function invoiceHtml(inv: InvoiceDocument): string {
  const e = escapeHtml
  const rows = inv.lines
    .map(
      (l) =>
        `<tr><td>${e(l.description)}</td><td class="n">${e(l.quantity)}</td><td class="n">${e(money(l.unitAmount, inv.currency))}</td><td class="n">${e(money(l.amount, inv.currency))}</td></tr>`,
    )
    .join('\n')
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Invoice ${e(inv.number)}</title>
<style>
body{font:14px/1.5 system-ui,sans-serif;max-width:720px;margin:40px auto;color:#222}
table{width:100%;border-collapse:collapse}td,th{padding:6px 8px;border-bottom:1px solid #ddd;text-align:left}
.n{text-align:right}.total td{font-weight:600;border-bottom:none}
</style>
</head>
<body>
<h1>Invoice ${e(inv.number)}</h1>
<p>${e(inv.org.name)}${inv.billingEmail ? ` &middot; ${e(inv.billingEmail)}` : ''}<br>
Period ${e(inv.period)} &middot; plan ${e(inv.plan)} &middot; issued ${e(inv.issuedAt.slice(0, 10))}<br>
Status: <strong>${e(inv.status)}</strong>${inv.paidAt ? ` (paid ${e(inv.paidAt.slice(0, 10))})` : ''}</p>
<table>
<thead><tr><th>Description</th><th class="n">Quantity</th><th class="n">Unit price</th><th class="n">Amount</th></tr></thead>
<tbody>
${rows}
<tr class="total"><td colspan="3">Total</td><td class="n">${e(money(inv.total, inv.currency))}</td></tr>
</tbody>
</table>
</body>
</html>
`
}
