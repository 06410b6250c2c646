import { describe, expect, it } from 'vitest'
import { presets, rules } from '../src/index.ts'

/**
 * What of the seeds is not a world and its answers. Those (seed 002's sentences, seed 003's example, seed
 * 004's modules and sub-orgs) live in the presets' model files, as tests beside the model
 * (models/*.yaml, run by test/model-files.test.ts and `orgkit model test`).
 */
describe('teams preset = seed 003 (Copia single-role teams)', () => {
  it('"all teams besides the Owners team will be set to Read access" when single-role teams is enabled', () => {
    const plan = rules.planSingleRoleTeams({
      enable: true,
      current: false,
      everEnabled: false,
      lowestRole: 'read',
      teams: [
        { id: 'owners', role: null, isOwners: true, members: [{ userId: 'owner', memberRole: null }] },
        {
          id: 'team-a',
          role: 'read',
          isOwners: false,
          members: [
            { userId: 'user1', memberRole: 'write' },
            { userId: 'user2', memberRole: 'read' },
          ],
        },
      ],
    })
    expect(plan.teamRoles).toEqual([{ groupId: 'team-a', role: 'read' }])
    expect(presets.teams!.teamLevels?.read).toBeDefined()
  })
})

describe('modules preset = seed 004 (Appcircle team management)', () => {
  it('"The creator of a team starts with the Owner role"; a new member is a Member; sub-orgs exist', () => {
    expect(presets.modules!.org).toMatchObject({
      creatorRole: 'owner',
      ownerRoles: ['owner'],
      defaultRole: 'member',
      personalOrgOnSignup: true,
      subOrgs: true,
    })
  })
})
