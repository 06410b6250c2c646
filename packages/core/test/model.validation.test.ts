import { describe, expect, it } from 'vitest'
import { type Model, OrgkitError, presets, validateModel } from '../src/index.ts'
import { DEFAULT_TERMS } from '../src/model/model.ts'
import { modulesModel, teamsModel } from './support/models.ts'

const capgo = presets.capgo!

/** A deep copy of capgo with one edit, so each case breaks exactly one thing. */
function broken(
  edit: (m: { -readonly [K in keyof Model]: Model[K] } & Record<string, unknown>) => void,
): unknown {
  const copy = structuredClone(capgo) as Model & Record<string, unknown>
  edit(copy)
  return copy
}

function failure(input: unknown): { message: string; culprit: unknown } {
  try {
    validateModel(input)
  } catch (error) {
    expect(error).toBeInstanceOf(OrgkitError)
    const e = error as OrgkitError
    expect(e.code).toBe('INVALID_MODEL')
    return { message: e.message, culprit: e.details.culprit }
  }
  throw new Error('the model was accepted')
}

describe('model validation at load', () => {
  it('accepts every preset and the test models', () => {
    for (const model of Object.values(presets)) expect(validateModel(model)).toEqual(model)
    for (const model of [modulesModel, teamsModel]) expect(validateModel(model)).toMatchObject(model)
  })

  // Issue 19.9: the console says only the model's words, so a model without them is served with defaults.
  it('gives a model without plurals or terms the English plural and Member / Group / Role', () => {
    const served = validateModel(teamsModel)
    expect(served.resourceTypes.repository?.plural).toBe('Repositories')
    expect(served.terms).toEqual(DEFAULT_TERMS)
    expect(
      validateModel({ ...teamsModel, terms: { group: { label: 'Team', plural: 'Teams' } } }).terms,
    ).toEqual({
      ...DEFAULT_TERMS,
      group: { label: 'Team', plural: 'Teams' },
    })
  })

  it('serves every preset with each type in the plural and its own terms', () => {
    for (const model of Object.values(presets)) {
      expect(model.terms).toBeDefined()
      for (const def of Object.values(model.resourceTypes)) expect(def.plural).toBeTruthy()
    }
    expect(presets.projects!.terms?.group.plural).toBe('Roles')
    expect(presets.teams!.terms?.group.plural).toBe('Teams')
  })

  it.each([
    [
      'an unknown permission in a role',
      (m: Model) => (m.roles.app_reader!.permissions as string[]).push('app.fly'),
      'app_reader',
      /unknown permission "app.fly"/,
    ],
    [
      'a role whose permission sits above its scope',
      (m: Model) => (m.roles.app_reader!.permissions as string[]).push('org.delete'),
      'app_reader',
      /not at or below/,
    ],
    [
      'a role bound at an unknown scope',
      (m: Model) => ((m.roles.app_reader as { scope: string }).scope = 'planet'),
      'app_reader',
      /unknown scope "planet"/,
    ],
    [
      'a role in an unknown slot',
      (m: Model) => ((m.roles.app_reader as { slot: string }).slot = 'nope'),
      'app_reader',
      /unknown slot/,
    ],
    [
      'a cycle in resource types',
      (m: Model) => ((m.resourceTypes.app as { parent: string }).parent = 'channel'),
      'app',
      /cycle: app -> channel -> app/,
    ],
    [
      'a resource type under an unknown parent',
      (m: Model) => ((m.resourceTypes.channel as { parent: string }).parent = 'bundle'),
      'bundle',
      /"bundle" is not declared/,
    ],
    [
      'a permission on an unknown type',
      (m: Model) => ((m.permissions['app.read'] as { on: string }).on = 'bundle'),
      'app.read',
      /unknown type "bundle"/,
    ],
    [
      'a permission in an unknown module',
      (m: Model) => ((m.permissions['app.read'] as { module: string }).module = 'x'),
      'app.read',
      /unknown module/,
    ],
    [
      'an overridable org permission',
      (m: Model) => ((m.permissions['org.read'] as { overridable: boolean }).overridable = true),
      'org.read',
      /cannot be overridable/,
    ],
    [
      'a platform permission declared on a resource type',
      (m: Model) => ((m.permissions['org.read_audit'] as { on: string }).on = 'app'),
      'org.read_audit',
      /platform permission "org.read_audit" must be declared on org/,
    ],
    [
      'a creator role that is not an owner role',
      (m: Model) => ((m.org as { creatorRole: string }).creatorRole = 'org_admin'),
      'org_admin',
      /must be one of org.ownerRoles/,
    ],
    [
      'an owner role bound below org',
      (m: Model) =>
        ((m.org as unknown as { ownerRoles: string[] }).ownerRoles = ['org_super_admin', 'app_admin']),
      'app_admin',
      /must be bound at org/,
    ],
    [
      'the reserved role key "team"',
      (m: Model) => ((m.roles as Record<string, unknown>).team = m.roles.org_member),
      'team',
      /reserved/,
    ],
    [
      'a resource action naming an unknown permission',
      (m: Model) => ((m.resourceTypes.app as { actions: { read: string } }).actions.read = 'app.see'),
      'app',
      /unknown permission "app.see"/,
    ],
  ])('rejects %s, naming the culprit', (_, edit, culprit, message) => {
    const result = failure(broken(edit as (m: Model) => void))
    expect(result.culprit).toBe(culprit)
    expect(result.message).toMatch(message)
  })

  it('rejects a malformed shape with the path of the field', () => {
    const result = failure(broken((m) => ((m.roles.org_member as { priority: unknown }).priority = 'high')))
    expect(result.culprit).toBe('roles.org_member.priority')
  })
})
