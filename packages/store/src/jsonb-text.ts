/**
 * The text PostgreSQL prints for a value stored as jsonb (`jsonb::text`, jsonb_out), from the value JSON.parse
 * makes of the JSON text it was stored from: what the change feed's MAC is over (changes.repository.ts), so
 * Node can MAC an entry without the database hashing it. jsonb keeps one value per key, orders an object's
 * keys by their length in bytes and then bytewise, and prints `, ` and `: ` between items; strings are
 * escaped as JSON.stringify escapes them (\" \\ \b \f \n \r \t, \u00xx below 0x20, the rest as is).
 *
 * Null when the text is not certain: a number JavaScript writes with an exponent, which numeric prints in
 * full (1e+21 as 1000000000000000000000). A caller that gets null, or whose text the database does not
 * print after all, lets the database do the work instead: this is a shortcut, never the definition.
 */
export function jsonbText(value: unknown): string | null {
  if (value === null) return 'null'
  switch (typeof value) {
    case 'boolean':
      return String(value)
    case 'number': {
      const text = JSON.stringify(value)
      return /e/i.test(text) ? null : text
    }
    case 'string':
      return JSON.stringify(value)
    case 'object':
      break
    default:
      return null
  }
  const parts: string[] = []
  if (Array.isArray(value)) {
    for (const item of value) {
      const text = jsonbText(item)
      if (text === null) return null
      parts.push(text)
    }
    return `[${parts.join(', ')}]`
  }
  const entries = Object.entries(value as Record<string, unknown>).map(
    ([key, item]) => [key, Buffer.from(key, 'utf8'), item] as const,
  )
  entries.sort(([, a], [, b]) => a.length - b.length || Buffer.compare(a, b))
  for (const [key, , item] of entries) {
    const text = jsonbText(item)
    if (text === null) return null
    parts.push(`${JSON.stringify(key)}: ${text}`)
  }
  return `{${parts.join(', ')}}`
}
