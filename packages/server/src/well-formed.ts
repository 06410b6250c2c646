import { isUtf8 } from 'node:buffer'
import { OrgkitError } from '@orgkit/core'

/**
 * Text the API takes must be text PostgreSQL can store as it was sent (issue 22.2): no NUL (`\u0000`, which
 * `text` refuses: "invalid byte sequence", a 500) and no lone surrogate (`\ud800`, which becomes U+FFFD on
 * the way to UTF-8: the stored value is not the one sent). Checked once, where a request's text enters —
 * the raw body before any JSON parse, the path and the query — by the app's middleware (app.ts) and the hot
 * path (hot/listener.ts), so no route and no schema string can forget it. test/well-formed.test.ts walks
 * every operation of the OpenAPI document to hold every route to it.
 */

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/

/** Why `text` can't be stored as given, or null: a NUL, or a lone surrogate. */
function fault(text: string): string | null {
  if (text.includes('\u0000')) return 'contains NUL (\\u0000)'
  if (LONE_SURROGATE.test(text)) return 'contains a lone surrogate'
  return null
}

const refuse = (field: string, why: string, where: string) =>
  new OrgkitError('VALIDATION_FAILED', `${field}: ${why}`, { field, in: where })

/** Every string of a JSON value, keys included, with the path to it. */
function* strings(value: unknown, path: string): Generator<[string, string]> {
  if (typeof value === 'string') yield [path, value]
  else if (Array.isArray(value))
    for (let i = 0; i < value.length; i++) yield* strings(value[i], `${path}.${i}`)
  else if (typeof value === 'object' && value !== null)
    for (const [key, item] of Object.entries(value)) {
      const at = path ? `${path}.${key}` : key
      yield [at, key]
      yield* strings(item, at)
    }
}

/**
 * A JSON body's bytes: UTF-8 (invalid bytes would be read as U+FFFD), and, when an escape `\u` appears at all
 * (the only way JSON spells a NUL or a lone surrogate), no string of the parsed value holding either. A body
 * with no `\u` costs one native scan for it and one UTF-8 validation; one that is not JSON is left to the
 * parser that follows, which answers as always.
 */
export function assertWellFormedBody(body: Uint8Array): void {
  if (body.length === 0) return
  if (!isUtf8(body)) throw refuse('body', 'is not valid UTF-8', 'json')
  const bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength)
  if (bytes.indexOf('\\u') < 0) return
  let value: unknown
  try {
    value = JSON.parse(bytes.toString('utf8'))
  } catch {
    return
  }
  for (const [path, text] of strings(value, '')) {
    const why = fault(text)
    if (why !== null) throw refuse(path || 'body', why, 'json')
  }
}

/** A request's URL (absolute): its path and query, each part percent-decoded: nothing malformed, no NUL, no lone surrogate. */
export function assertWellFormedTarget(url: string): void {
  const parsed = new URL(url)
  const target = parsed.pathname + parsed.search
  if (!target.includes('%') && !target.includes('\u0000')) return
  const query = target.indexOf('?')
  const parts: [string, string][] = [['path', query < 0 ? target : target.slice(0, query)]]
  if (query >= 0)
    for (const pair of target.slice(query + 1).split('&')) parts.push(['query', pair.replaceAll('+', ' ')])
  for (const [where, part] of parts) {
    let text: string
    try {
      text = decodeURIComponent(part)
    } catch {
      throw refuse(where, 'is not valid percent-encoded UTF-8', where)
    }
    const why = fault(text)
    if (why !== null) throw refuse(where, why, where)
  }
}
