import {
  IconApps,
  IconBox,
  IconCloud,
  IconCode,
  IconDatabase,
  IconDeviceMobile,
  IconFolder,
  IconGitBranch,
  IconRocket,
  IconServer,
  IconUsers,
  IconWorld,
} from '@tabler/icons-react'

/** The icons a model may give a resource type (core's RESOURCE_ICONS), by name. */
const ICONS = {
  apps: IconApps,
  box: IconBox,
  cloud: IconCloud,
  code: IconCode,
  database: IconDatabase,
  folder: IconFolder,
  'git-branch': IconGitBranch,
  mobile: IconDeviceMobile,
  rocket: IconRocket,
  server: IconServer,
  users: IconUsers,
  world: IconWorld,
} as const

/** A resource type's icon as its model names it (`apps` when it names none). */
export function ResourceIcon({ icon, size = 16 }: { icon?: string | undefined; size?: number }) {
  const Icon = ICONS[icon as keyof typeof ICONS] ?? IconApps
  return <Icon size={size} aria-hidden data-icon={icon ?? 'apps'} />
}
