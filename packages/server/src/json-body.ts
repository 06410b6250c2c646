/**
 * `JSON.parse` of a request body without ever making one string of a large body.
 *
 * V8 puts a string over 128 KiB in a space of its own, mapped for it alone and unmapped when it dies; on a
 * virtual machine where a page fault is dear (ours: ~0.9 ms for a 166 KiB string, against 8 µs for 64 KiB)
 * that one allocation was a quarter of a 1000-check batch. A large body is almost always one big array in
 * a small object (`{"checks": [ … ]}`), so: find that array's elements with a scan that only tracks strings
 * and nesting, parse them in pieces of at most `piece` bytes, and parse the rest with an empty array in its
 * place. The scan decides nothing about validity: whatever it does not recognise, or any doubt (a repeated
 * key, a body that is not an object), goes to plain `JSON.parse` of the whole, which answers or throws as
 * always. test/json-body.property.test.ts holds it to `JSON.parse` on generated documents.
 */
export function parseJsonBody(body: Buffer, piece = 64 * 1024): unknown {
  if (body.length > piece) {
    const found = largeArray(body, piece)
    const parsed = found === null ? undefined : inPieces(body, found, piece)
    if (parsed !== undefined) return parsed
  }
  return JSON.parse(body.toString('utf8'))
}

export interface Found {
  key: Span
  open: number
  close: number
  commas: number[]
  /** Every key of the top-level object, the array's own among them. */
  keys: Span[]
}

interface Span {
  start: number
  end: number
}

/** The body parsed around the array `found` and the array in pieces; undefined at any doubt. */
export function inPieces(
  body: Buffer,
  { key, open, close, commas, keys }: Found,
  piece: number,
): object | undefined {
  try {
    const rest = JSON.parse(`${body.toString('utf8', 0, open + 1)}${body.toString('utf8', close)}`) as unknown
    if (typeof rest !== 'object' || rest === null || Array.isArray(rest)) return undefined
    const name = JSON.parse(body.toString('utf8', key.start, key.end)) as string
    const items = (rest as Record<string, unknown>)[name]
    if (!Array.isArray(items)) return undefined
    // A member named twice: JSON.parse keeps the last, which may not be the array found.
    if (keys.filter((k) => JSON.parse(body.toString('utf8', k.start, k.end)) === name).length !== 1)
      return undefined
    // Elements lie between `open`, the commas and `close`; each piece holds whole elements, under `piece`.
    const bounds = [open, ...commas, close]
    for (let from = 0; from < bounds.length - 1; ) {
      let to = from + 1
      while (to < bounds.length - 1 && bounds[to + 1]! - bounds[from]! <= piece) to++
      const part = JSON.parse(`[${body.toString('utf8', bounds[from]! + 1, bounds[to])}]`) as unknown[]
      if (part.length !== to - from) return undefined // an empty element: `[1,,2]` or `[1,]`
      for (const item of part) items.push(item)
      from = to
    }
    return rest
  } catch {
    return undefined
  }
}

const QUOTE = 0x22
const BACKSLASH = 0x5c
const OPEN_OBJECT = 0x7b
const CLOSE_OBJECT = 0x7d
const OPEN_ARRAY = 0x5b
const CLOSE_ARRAY = 0x5d
const COMMA = 0x2c
const COLON = 0x3a

/**
 * The first member of the top-level object whose value is an array longer than `piece` bytes: where its
 * key is, where the array opens and closes, and the commas between its elements. Null when the body is not
 * `{…}` or no member is such an array, or the scan loses its way (then the caller parses the whole).
 */
export function largeArray(body: Buffer, piece: number): Found | null {
  const end = body.length
  let i = 0
  while (i < end && isSpace(body[i]!)) i++
  if (body[i] !== OPEN_OBJECT) return null
  let depth = 0
  let last: Span = { start: -1, end: -1 }
  const keys: Span[] = []
  let found: Found | null = null
  let open = -1
  let commas: number[] = []
  for (; i < end; i++) {
    const c = body[i]!
    if (c === QUOTE) {
      const start = i
      for (i++; i < end && body[i] !== QUOTE; i++) if (body[i] === BACKSLASH) i++
      if (i >= end) return null
      if (depth === 1) last = { start, end: i + 1 }
    } else if (c === COLON) {
      if (depth === 1) keys.push(last)
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      depth++
      if (depth === 2 && c === OPEN_ARRAY && found === null && followsColon(body, last.end, i)) {
        open = i
        commas = []
      }
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      depth--
      if (depth === 1 && open >= 0) {
        if (i - open > piece) found = { key: last, open, close: i, commas, keys }
        open = -1
      }
      if (depth === 0) return found
      if (depth < 0) return null
    } else if (c === COMMA && depth === 2 && open >= 0) {
      commas.push(i)
    }
  }
  return null
}

/** Whether only whitespace and one colon lie between a key's end and `at`. */
function followsColon(body: Buffer, from: number, at: number): boolean {
  let colons = 0
  for (let i = from; i < at; i++) {
    const c = body[i]!
    if (c === COLON) colons++
    else if (!isSpace(c)) return false
  }
  return colons === 1
}

const isSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09
