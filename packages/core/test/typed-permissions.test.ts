import { describe, expect, expectTypeOf, it } from 'vitest'
import {
  type Model,
  type PermissionOf,
  PLATFORM_PERMISSIONS,
  type PlatformPermission,
  type RoleOf,
} from '../src/model/model.ts'
import { type PresetPermission, type PresetPermissions, presets } from '../src/model/presets/index.ts'
import { platformPermissions } from '../src/model/presets/platform.ts'

/**
 * Issue 18: permissions typed where the model is known statically. The unions are derived from the
 * presets' own objects (generated from their model files); where a helper builds keys (platformPermissions)
 * a cast names them, and these tests hold the cast to the keys really built. The type assertions fail
 * `tsc -b`.
 */
describe('typed permissions', () => {
  it("every preset's runtime permission keys are the keys its type names", () => {
    const named: { [N in keyof PresetPermissions]: (key: string) => key is PresetPermission<N> } = {
      capgo: (key): key is PresetPermission<'capgo'> => key in presets.capgo!.permissions,
      'capgo-legacy': (key): key is PresetPermission<'capgo-legacy'> =>
        key in presets['capgo-legacy']!.permissions,
      projects: (key): key is PresetPermission<'projects'> => key in presets.projects!.permissions,
      teams: (key): key is PresetPermission<'teams'> => key in presets.teams!.permissions,
      modules: (key): key is PresetPermission<'modules'> => key in presets.modules!.permissions,
    }
    expect(Object.keys(named).sort()).toEqual(Object.keys(presets).sort())
    for (const [name, is] of Object.entries(named)) {
      for (const key of Object.keys(presets[name]!.permissions)) expect(is(key), `${name}: ${key}`).toBe(true)
    }
    expect(Object.keys(platformPermissions())).toEqual([...PLATFORM_PERMISSIONS])
  })

  it('names a preset permission as a literal, and refuses a misspelt one', () => {
    const upload: PresetPermission<'capgo'> = 'app.upload_bundle'
    // @ts-expect-error: a typo is a compile error, not a 400 UNKNOWN_PERMISSION at run time
    const typo: PresetPermission<'capgo'> = 'app.uplaod_bundle'
    expect([upload, typo]).toHaveLength(2)
    expectTypeOf<PlatformPermission>().toExtend<PresetPermission<'teams'>>()
    expectTypeOf<PlatformPermission>().toExtend<PresetPermission<'modules'>>()
    expectTypeOf<'build.write'>().toExtend<PresetPermission<'modules'>>()
    expectTypeOf<'repository.admin'>().not.toExtend<PresetPermission<'projects'>>()
  })

  it('keeps a custom model declared with satisfies, and any model typed Model, compiling', () => {
    const mine = {
      name: 'mine',
      resourceTypes: { doc: { parent: 'org', label: 'Doc' } },
      modules: { docs: { label: 'Docs' } },
      permissions: {
        ...platformPermissions(),
        'doc.read': { on: 'doc', module: 'docs', label: 'Read' },
      },
      slots: { org: { label: 'Org', multiple: false } },
      roles: {
        owner: { scope: 'org', slot: 'org', label: 'Owner', description: '', permissions: [], priority: 1 },
      },
      org: {
        creatorRole: 'owner',
        ownerRoles: ['owner'],
        defaultRole: 'owner',
        personalOrgOnSignup: false,
        subOrgs: false,
      },
    } satisfies Model
    expectTypeOf<PermissionOf<typeof mine>>().toEqualTypeOf<PlatformPermission | 'doc.read'>()
    expectTypeOf<RoleOf<typeof mine>>().toEqualTypeOf<'owner'>()
    // A model chosen at run time: any string, as before.
    expectTypeOf<PermissionOf<Model>>().toEqualTypeOf<string>()
  })
})
