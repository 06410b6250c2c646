import { type PermissionDef, PLATFORM_PERMISSIONS, type PlatformPermission } from '../model.ts'

/** The platform's own permissions, grouped for display, for presets that take them as they are. */
export const platformPermissions = (): Record<PlatformPermission, PermissionDef> =>
  Object.fromEntries(
    PLATFORM_PERMISSIONS.map((key) => [
      key,
      {
        on: 'org',
        module:
          key.includes('billing') || key.includes('invoices')
            ? 'billing'
            : key === 'org.manage_security'
              ? 'security'
              : key.includes('member') ||
                  key.includes('user') ||
                  key.includes('groups') ||
                  key.includes('access')
                ? 'members'
                : 'organization',
        label: key.replace('org.', '').replaceAll('_', ' '),
      },
    ]),
  ) as Record<PlatformPermission, PermissionDef>

export const PLATFORM_MODULES = {
  organization: { label: 'Organization' },
  members: { label: 'Members' },
  security: { label: 'Security' },
  billing: { label: 'Billing' },
}
