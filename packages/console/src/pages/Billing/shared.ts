import { api, must } from '../../api.ts'
import { useAsync } from '../../hooks.ts'

/** Amounts are in the catalogue's currency's minor unit (cents). */
export function money(cents: number, currency: string): string {
  try {
    return new Intl.NumberFormat('en', { style: 'currency', currency: currency.toUpperCase() }).format(
      cents / 100,
    )
  } catch {
    return `${(cents / 100).toFixed(2)} ${currency}`
  }
}

export const limitText = (max: number | null | undefined) =>
  max === null || max === undefined ? 'Unlimited' : String(max)

/** GET /v1/plans: the catalogue every signed-in person may read. */
export const usePlans = () => useAsync(() => must(api.GET('/v1/plans')), [])

/** GET /v1/orgs/{orgId}/billing: plan, billing email, balance, currency, provider (org.read_billing). */
export const useBilling = (orgId: string) =>
  useAsync(() => must(api.GET('/v1/orgs/{orgId}/billing', { params: { path: { orgId } } })), [orgId])

export const FEATURES: Record<string, string> = {
  subOrgs: 'Sub-organizations',
  customRoles: 'Custom roles',
}
