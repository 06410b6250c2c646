import { type Filter, parse } from 'scim2-parse-filter'
import { invalid, SCHEMAS } from './protocol.ts'

/**
 * RFC 7644 3.5.2 PATCH on a resource held as JSON, as Okta and Entra send it: ops in any case (`Replace`),
 * with no path (`{op: "replace", value: {active: false}}`, value keys may be paths themselves:
 * `"name.givenName"`), a path (`active`, `name.familyName`, `urn:…:enterprise:2.0:User:department`) or a
 * value filter (`emails[type eq "work"].value`). Pure: the resource in, the patched copy out.
 */
export interface PatchOperation {
  op: string
  path?: string | undefined
  value?: unknown
}

type Json = Record<string, unknown>

/** A PatchOp message's operations (400 invalidSyntax for anything else). */
export function patchOperations(body: unknown): PatchOperation[] {
  const message = body as { schemas?: unknown; Operations?: unknown }
  if (
    typeof message !== 'object' ||
    message === null ||
    !Array.isArray(message.Operations) ||
    (Array.isArray(message.schemas) && !message.schemas.includes(SCHEMAS.patch))
  )
    throw invalid('invalidSyntax', `send a PatchOp: {"schemas": ["${SCHEMAS.patch}"], "Operations": […]}`)
  return message.Operations.map((o: unknown) => {
    const op = o as PatchOperation
    if (typeof op !== 'object' || op === null || typeof op.op !== 'string')
      throw invalid('invalidSyntax', 'each operation has an "op"')
    const kind = op.op.toLowerCase()
    if (kind !== 'add' && kind !== 'replace' && kind !== 'remove')
      throw invalid('invalidSyntax', `"op" is add, replace or remove, not ${JSON.stringify(op.op)}`)
    if (op.path !== undefined && typeof op.path !== 'string')
      throw invalid('invalidPath', '"path" is a string')
    return { op: kind, path: op.path, value: op.value }
  })
}

/** The key an object has for this attribute name, compared as SCIM does (case-insensitively). */
const keyOf = (object: Json, name: string) =>
  Object.keys(object).find((k) => k.toLowerCase() === name.toLowerCase()) ?? name

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)

interface Path {
  /** The extension's URN when the attribute lives under one (the core schemas' URNs are dropped). */
  urn: string | null
  attr: string
  filter: Filter | null
  sub: string | null
}

const CORE = new Set([SCHEMAS.user.toLowerCase(), SCHEMAS.group.toLowerCase()])

export function parsePath(path: string): Path {
  let rest = path.trim()
  let urn: string | null = null
  if (/^urn:/i.test(rest)) {
    const end = rest.includes('[') ? rest.indexOf('[') : rest.length
    const colon = rest.lastIndexOf(':', end)
    urn = rest.slice(0, colon)
    rest = rest.slice(colon + 1)
    if (CORE.has(urn.toLowerCase())) urn = null
  }
  const match = /^([A-Za-z$][\w$-]*)(?:\[(.+)\])?(?:\.([A-Za-z$][\w$-]*))?$/.exec(rest)
  if (!match) throw invalid('invalidPath', `can't read the path ${JSON.stringify(path)}`)
  let filter: Filter | null = null
  if (match[2]) {
    try {
      filter = parse(match[2])
    } catch {
      throw invalid('invalidPath', `can't read the filter in ${JSON.stringify(path)}`)
    }
  }
  return { urn, attr: match[1]!, filter, sub: match[3] ?? null }
}

/** Does an element of a multi-valued attribute match a value filter (`type eq "work"`, and / or)? */
export function matches(element: unknown, filter: Filter): boolean {
  if (filter.op === 'and') return (filter as { filters: Filter[] }).filters.every((f) => matches(element, f))
  if (filter.op === 'or') return (filter as { filters: Filter[] }).filters.some((f) => matches(element, f))
  if (filter.op === 'eq' && isObject(element)) {
    const { attrPath, compValue } = filter as { attrPath: string; compValue: unknown }
    const actual = element[keyOf(element, attrPath)]
    return typeof actual === 'string' && typeof compValue === 'string'
      ? actual.toLowerCase() === compValue.toLowerCase()
      : actual === compValue
  }
  throw invalid('invalidFilter', 'value filters here are "eq", joined by "and" / "or"')
}

/** The attributes an `eq` filter pins (`type eq "work"` → {type: "work"}): a new element starts with them. */
function pinned(filter: Filter): Json {
  if (filter.op === 'eq') {
    const { attrPath, compValue } = filter as { attrPath: string; compValue: unknown }
    return { [attrPath]: compValue }
  }
  if (filter.op === 'and') return Object.assign({}, ...(filter as { filters: Filter[] }).filters.map(pinned))
  return {}
}

function applyAt(target: Json, op: string, path: Path, value: unknown): void {
  const key = keyOf(target, path.attr)
  if (path.filter) {
    const list = Array.isArray(target[key]) ? [...(target[key] as unknown[])] : []
    const hit = list.map((e) => matches(e, path.filter!))
    if (op === 'remove') {
      target[key] = path.sub
        ? list.map((e, i) => {
            if (!hit[i] || !isObject(e)) return e
            const { [keyOf(e, path.sub!)]: _, ...kept } = e
            return kept
          })
        : list.filter((_, i) => !hit[i])
      return
    }
    if (!hit.includes(true)) {
      // Entra replaces `emails[type eq "work"].value` on a user who has none: it is added.
      list.push(path.sub ? { ...pinned(path.filter), [path.sub]: value } : value)
    } else {
      for (const [i, e] of list.entries())
        if (hit[i]) list[i] = path.sub && isObject(e) ? { ...e, [keyOf(e, path.sub)]: value } : value
    }
    target[key] = list
    return
  }
  if (path.sub) {
    const parent = isObject(target[key]) ? { ...(target[key] as Json) } : {}
    applyAt(parent, op, { urn: null, attr: path.sub, filter: null, sub: null }, value)
    target[key] = parent
    return
  }
  if (op === 'remove') {
    delete target[key]
    return
  }
  const current = target[key]
  if (op === 'add' && Array.isArray(current))
    target[key] = [...current, ...(Array.isArray(value) ? value : [value])]
  else if (isObject(current) && isObject(value)) target[key] = { ...current, ...value }
  else target[key] = value
}

/** Applies the operations to a copy of the resource (a JSON object, its attributes at the top). */
export function applyPatch(resource: Json, operations: readonly PatchOperation[]): Json {
  const result: Json = structuredClone(resource)
  for (const { op, path, value } of operations) {
    if (path === undefined || path === '') {
      if (op === 'remove') throw invalid('noTarget', 'a remove names its path')
      if (!isObject(value)) throw invalid('invalidValue', 'an operation without a path has an object value')
      for (const [name, v] of Object.entries(value)) applyPath(result, op, name, v)
      continue
    }
    if (op !== 'remove' && value === undefined) throw invalid('invalidValue', `${op} needs a value`)
    applyPath(result, op, path, value)
  }
  return result
}

function applyPath(resource: Json, op: string, rawPath: string, value: unknown) {
  // A whole extension (`"urn:…:enterprise:2.0:User": {…}` as a key of a path-less value).
  if (rawPath.toLowerCase() === SCHEMAS.enterprise.toLowerCase())
    return applyAt(resource, op, { urn: null, attr: rawPath, filter: null, sub: null }, value)
  const path = parsePath(rawPath)
  if (path.urn === null) return applyAt(resource, op, path, value)
  // An extension's attributes live under its URN (`urn:…:enterprise:2.0:User` → {department, …}).
  const key = keyOf(resource, path.urn)
  const extension = isObject(resource[key]) ? { ...(resource[key] as Json) } : {}
  applyAt(extension, op, path, value)
  resource[key] = extension
}
