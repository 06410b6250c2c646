import type { Belonging } from '@orgkit/core'
import type { orgs } from '@orgkit/store'

export interface OrgView {
  id: string
  name: string
  parentId: string | null
  creatorId: string | null
  managementEmail: string | null
  logoUrl: string | null
  /** Seed 003's org settings. */
  fullName: string
  description: string
  website: string | null
  location: string
  singleRoleTeams: boolean
  resourceAdminsGrantTeamAccess: boolean
  createdAt: string
  /** How the caller belongs to it (SPEC 1.4); null for the platform token, absent in audit entries. */
  belonging?: Belonging | null
}

export const toOrgView = (row: orgs.OrgRow): OrgView => ({
  id: row.id,
  name: row.name,
  parentId: row.parent_id,
  creatorId: row.creator_id,
  managementEmail: row.management_email,
  logoUrl: row.logo_url,
  fullName: row.full_name,
  description: row.description,
  website: row.website,
  location: row.location,
  singleRoleTeams: row.single_role_teams,
  resourceAdminsGrantTeamAccess: row.resource_admins_grant_team_access,
  createdAt: row.created_at.toISOString(),
})
