import type { PlatformPermission } from '@orgkit/sdk'
import type { ReactNode } from 'react'
import type { Can } from '../../hooks.ts'
import { Billing } from './Billing.tsx'
import { Credits } from './Credits.tsx'
import { Plans } from './Plans.tsx'
import { Usage } from './Usage.tsx'

/** What the billing tabs ask the engine (seed 001: Super Admin and Billing Manager hold these). */
export const BILLING_PERMISSIONS = [
  'org.read_billing',
  'org.update_billing',
  'org.read_invoices',
] as const satisfies readonly PlatformPermission[]

export interface BillingTab {
  value: string
  label: string
  visible: (can: Can) => boolean
  render: (orgId: string, can: Can) => ReactNode
}

const tab = (value: string, label: string, visible: BillingTab['visible'], render: BillingTab['render']) => ({
  value,
  label,
  visible,
  render,
})

/** The org settings' billing tabs: shown as the engine allows, writes offered with org.update_billing. */
export const BILLING_TABS = {
  plans: tab(
    'plans',
    'Plans',
    (can) => !!can['org.read_billing'],
    (orgId, can) => <Plans orgId={orgId} canUpdate={!!can['org.update_billing']} />,
  ),
  credits: tab(
    'credits',
    'Credits',
    (can) => !!can['org.read_billing'],
    (orgId, can) => <Credits orgId={orgId} canUpdate={!!can['org.update_billing']} />,
  ),
  usage: tab(
    'usage',
    'Usage',
    (can) => !!can['org.read_billing'],
    (orgId) => <Usage orgId={orgId} />,
  ),
  billing: tab(
    'billing',
    'Billing',
    (can) => !!(can['org.read_billing'] || can['org.read_invoices']),
    (orgId, can) => <Billing orgId={orgId} can={can} />,
  ),
} satisfies Record<string, BillingTab>
