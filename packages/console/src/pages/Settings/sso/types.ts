import type { components } from '@orgkit/sdk'

export type Connection = components['schemas']['SsoConnection']
export type Mapping = Connection['mappings'][number]

/** What a mapping rule may give, and who may be the break-glass owner: read once for the whole tab. */
export type Options = {
  groups: components['schemas']['Group'][]
  roles: components['schemas']['Role'][]
  members: components['schemas']['Member'][]
}
