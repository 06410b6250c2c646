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
    const quick = atObjectBoundaries(body, piece)
    if (quick !== undefined) return quick
    const found = largeArray(body, piece)
    const parsed = found === null ? undefined : inPieces(body, found, piece)
    if (parsed !== undefined) return parsed
  }
  return JSON.parse(body.toString('utf8'))
}

const BETWEEN_OBJECTS = Buffer.from('},{')

/**
 * The common large body, compact JSON with an array of objects (`{"checks":[{…},{…},…]}`), split without
 * scanning it all: only the head up to the array and the tail after its last `},{` are scanned; the
 * pieces between are cut at `},{` found by `Buffer.lastIndexOf` (native), at most `piece` bytes each.
 * A `},{` can also sit inside a string or a nested array; a piece cut there does not parse (an open
 * string, an open bracket), so each piece that parses as `[piece]` ends on a real boundary between
 * elements, and so does the one after it begins on one. Then the head and the tail together — the
 * document without the middle elements — are parsed, and the elements put back in order. Undefined at
 * any doubt (no `},{`, a piece that does not parse, the array's name twice): the caller scans it all.
 */
export function atObjectBoundaries(body: Buffer, piece: number): object | undefined {
  const head = arrayHead(body, piece)
  if (head === null) return undefined
  const last = body.lastIndexOf(BETWEEN_OBJECTS)
  if (last <= head.open) return undefined
  // Cuts after each piece's last `}`: as far as `piece` bytes allow, then the last `},{` of all.
  const cuts: number[] = []
  for (let start = head.open + 1; start + piece < last; ) {
    const cut = body.lastIndexOf(BETWEEN_OBJECTS, start + piece - 1)
    if (cut < start) return undefined // no boundary within a piece: let the scanner judge
    cuts.push(cut)
    start = cut + 2
  }
  cuts.push(last)
  const tail = tailKeys(body, last + 2)
  if (tail === null) return undefined
  try {
    const name = JSON.parse(body.toString('utf8', head.key.start, head.key.end)) as string
    const keyNames = [...head.keys, ...tail].map((k) => JSON.parse(body.toString('utf8', k.start, k.end)))
    if (keyNames.filter((k) => k === name).length !== 1) return undefined
    const items: unknown[] = []
    let start = head.open + 1
    for (const cut of cuts) {
      const part = JSON.parse(`[${body.toString('utf8', start, cut + 1)}]`) as unknown[]
      for (const item of part) items.push(item)
      start = cut + 2
    }
    const rest = JSON.parse(
      `${body.toString('utf8', 0, head.open + 1)}${body.toString('utf8', start)}`,
    ) as unknown
    if (typeof rest !== 'object' || rest === null || Array.isArray(rest)) return undefined
    const tailItems = (rest as Record<string, unknown>)[name]
    if (!Array.isArray(tailItems)) return undefined
    for (const item of tailItems) items.push(item)
    ;(rest as Record<string, unknown>)[name] = items
    return rest
  } catch {
    return undefined
  }
}

/** The first top-level member whose value is an array, within the first `limit` bytes: key, `[`, keys before. */
function arrayHead(body: Buffer, limit: number): { key: Span; open: number; keys: Span[] } | null {
  const scan = Scanner.atObject(body, Math.min(body.length, limit))
  if (scan === null) return null
  for (let c = scan.next(); c >= 0; c = scan.next()) {
    if (c === OPEN_ARRAY && scan.depth === 2 && followsColon(body, scan.key.end, scan.at))
      return { key: scan.key, open: scan.at, keys: scan.keys }
    if (scan.depth <= 0) return null
  }
  return null
}

/**
 * The top-level keys after the array, scanning from `from`, an element's start inside it (depth 2): null
 * if the scan loses its way. The parse of head and tail decides validity; this only names the keys.
 */
function tailKeys(body: Buffer, from: number): Span[] | null {
  const scan = new Scanner(body, from, body.length, 2)
  for (let c = scan.next(); c >= 0; c = scan.next()) {
    if (scan.depth === 0) return scan.keys
    if (scan.depth < 0) return null
  }
  return null
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
  const scan = Scanner.atObject(body, body.length)
  if (scan === null) return null
  let found: Found | null = null
  let open = -1
  let commas: number[] = []
  for (let c = scan.next(); c >= 0; c = scan.next()) {
    const depth = scan.depth
    if (c === OPEN_ARRAY && depth === 2 && found === null && followsColon(body, scan.key.end, scan.at)) {
      open = scan.at
      commas = []
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      if (depth === 1 && open >= 0) {
        if (scan.at - open > piece) found = { key: scan.key, open, close: scan.at, commas, keys: scan.keys }
        open = -1
      }
      if (depth === 0) return found
      if (depth < 0) return null
    } else if (c === COMMA && depth === 2 && open >= 0) {
      commas.push(scan.at)
    }
  }
  return null
}

/**
 * JSON's structure and nothing else: strings skipped whole, nesting counted, the top-level keys noted.
 * `next` stops at each `{ } [ ] , :` outside strings, with `depth` already updated for it (after an
 * opening bracket, one more; after a closing one, one less) and `at` on it; -1 at the end or where a
 * string never closes. Validity is left to `JSON.parse`.
 */
class Scanner {
  /** Where `next` stopped. */
  at: number
  /** The last string at depth 1: the current top-level key once a colon follows it. */
  key: Span = { start: -1, end: -1 }
  /** Every top-level key so far. */
  readonly keys: Span[] = []

  constructor(
    private readonly body: Buffer,
    from: number,
    private readonly end: number,
    public depth: number,
  ) {
    this.at = from - 1
  }

  /** A scanner at the document's `{` (after any whitespace), or null when it is not an object. */
  static atObject(body: Buffer, end: number): Scanner | null {
    let i = 0
    while (i < end && isSpace(body[i]!)) i++
    return body[i] === OPEN_OBJECT ? new Scanner(body, i, end, 0) : null
  }

  next(): number {
    const { body, end } = this
    let depth = this.depth
    for (let i = this.at + 1; i < end; i++) {
      const c = body[i]!
      if (c === QUOTE) {
        const start = i
        for (i++; i < end && body[i] !== QUOTE; i++) if (body[i] === BACKSLASH) i++
        if (i >= end) break
        if (depth === 1) this.key = { start, end: i + 1 }
        continue
      }
      if (c === OPEN_OBJECT || c === OPEN_ARRAY) depth++
      else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) depth--
      else if (c === COLON) {
        if (depth === 1) this.keys.push(this.key)
      } else if (c !== COMMA) continue
      this.depth = depth
      this.at = i
      return c
    }
    this.depth = depth
    this.at = end
    return -1
  }
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
