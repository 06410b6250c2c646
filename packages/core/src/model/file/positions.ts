import { type Document, isMap, isScalar, isSeq, type LineCounter, type Node } from 'yaml'

/** A place in a model file, 1-based as editors count. */
export interface Position {
  line: number
  column: number
}

const keyText = (key: unknown): string => (isScalar(key) ? String(key.value) : String(key))

/**
 * Where `path` is in a parsed file: its value's first character, or its key's with `atKey`. A path that
 * goes further than the file (a missing field) stops at the key of the nearest thing that is there, so
 * "label is missing" points at the role lacking it.
 */
export function positionOf(
  doc: Document,
  counter: LineCounter,
  path: readonly (string | number)[],
  atKey = false,
): Position {
  let node: unknown = doc.contents
  let best: Node | null = (doc.contents as Node | null) ?? null
  for (const [i, step] of path.entries()) {
    const last = i === path.length - 1
    if (isMap(node)) {
      const pair = node.items.find((p) => keyText(p.key) === String(step))
      if (!pair) break
      const key = pair.key as Node
      const value = pair.value as Node | null
      best = last && !atKey && value?.range ? value : key
      node = value
    } else if (isSeq(node) && typeof step === 'number' && node.items[step]) {
      node = node.items[step]
      best = node as Node
    } else break
  }
  return at(counter, best?.range?.[0] ?? 0)
}

export function at(counter: LineCounter, offset: number): Position {
  const { line, col } = counter.linePos(offset)
  return { line, column: col }
}
