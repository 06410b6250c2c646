import { useSession } from './session.tsx'
import type { Model } from './types.ts'

/** A word in the singular and the plural, with the lower-case forms a sentence needs. */
export interface Word {
  label: string
  plural: string
  one: string
  many: string
}

export interface ResourceWord extends Word {
  type: string
  /** The model's icon for the type (components/ResourceIcon.tsx). */
  icon?: string | undefined
}

const word = (label: string, plural: string): Word => ({
  label,
  plural,
  one: label.toLowerCase(),
  many: plural.toLowerCase(),
})

/** Before the model loads: the served model always carries its plurals and terms (core's validate.ts). */
const plural = (label: string) => (/[^aeiou]y$/i.test(label) ? `${label.slice(0, -1)}ies` : `${label}s`)

/**
 * The console's words, all from the model in force (issue 19.9): the resource types (the first one under
 * the org is the console's main list, its first child that list's inner one) and what the product calls
 * members, groups and roles. No screen says "App", "Channel" or "Group" of its own.
 */
export function wordsOf(model: Model | undefined) {
  const types = Object.entries(model?.resourceTypes ?? {})
  const resource = (type: string | undefined): ResourceWord | undefined => {
    const def = type ? model?.resourceTypes[type] : undefined
    return def && type
      ? { type, icon: def.icon, ...word(def.label, def.plural ?? plural(def.label)) }
      : undefined
  }
  const terms = model?.terms
  const top = resource(types.find(([, def]) => def.parent === 'org')?.[0])
  return {
    /** The main list: the first type under the org; none in a model without resource types (seed 004). */
    top,
    /** The first type under `parent` (capgo: a channel under an app). */
    childOf: (parent: string | undefined) =>
      parent ? resource(types.find(([, def]) => def.parent === parent)?.[0]) : undefined,
    resource,
    /** `org` or a resource type, for a sentence: "the organization", "repository". */
    scope: (type: string) => (type === 'org' ? 'the organization' : (resource(type)?.one ?? type)),
    member: word(terms?.member.label ?? 'Member', terms?.member.plural ?? 'Members'),
    group: word(terms?.group.label ?? 'Group', terms?.group.plural ?? 'Groups'),
    role: word(terms?.role.label ?? 'Role', terms?.role.plural ?? 'Roles'),
  }
}

export type Words = ReturnType<typeof wordsOf>

export function useWords(): Words {
  return wordsOf(useSession().model)
}

/** Where an org opens: its main list, or its members when the model has no resource types. */
export const orgHome = (words: Words, orgId: string) =>
  words.top ? `/orgs/${orgId}/apps` : `/orgs/${orgId}/settings/members`

/** The word with its article: "a member", "an account", "an access level". */
export const an = (word: string) => (/^[aeiou]/i.test(word) ? `an ${word}` : `a ${word}`)
