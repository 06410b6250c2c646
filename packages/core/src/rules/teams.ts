import type { Id } from '../engine/data.ts'

/** A team as the single-role-teams switch sees it. */
export interface TeamFacts {
  id: Id
  role: string | null
  /** The Owners team keeps its role (seed 003). */
  isOwners: boolean
  members: readonly { userId: Id; memberRole: string | null }[]
}

export interface TeamsSwitchPlan {
  singleRoleTeams: boolean
  /** Set once, the first time the switch is turned on. */
  everEnabled: boolean
  teamRoles: { groupId: Id; role: string }[]
  memberRoles: { groupId: Id; userId: Id; memberRole: string }[]
}

/**
 * The single-role-teams switch (seed 003, SPEC 1.3). The first time it is turned on, every team but
 * Owners is set to the lowest role. Per-member roles are never touched, so turning it off restores them
 * exactly; a member who had none (who used the team's role) is first given that role as their own, so
 * the first-time reset of the team's role can't change what they revert to.
 */
export function planSingleRoleTeams(input: {
  enable: boolean
  current: boolean
  everEnabled: boolean
  teams: readonly TeamFacts[]
  lowestRole: string
}): TeamsSwitchPlan {
  const plan: TeamsSwitchPlan = {
    singleRoleTeams: input.enable,
    everEnabled: input.everEnabled || input.enable,
    teamRoles: [],
    memberRoles: [],
  }
  if (!input.enable || input.current || input.everEnabled) return plan
  for (const team of input.teams) {
    if (team.isOwners) continue
    for (const member of team.members) {
      if (member.memberRole === null && team.role !== null) {
        plan.memberRoles.push({ groupId: team.id, userId: member.userId, memberRole: team.role })
      }
    }
    plan.teamRoles.push({ groupId: team.id, role: input.lowestRole })
  }
  return plan
}
