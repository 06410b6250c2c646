import { emptySnapshot, type Snapshot } from '../../src/index.ts'

/** A snapshot with defaults filled in, for tests that spell out only what matters to them. */
export function world(parts: Partial<Snapshot>): Snapshot {
  return { ...emptySnapshot(), ...parts }
}

export const user = (id: string) => ({ type: 'user', id }) as const
export const group = (id: string) => ({ type: 'group', id }) as const
export const org = (id: string) => ({ type: 'org', id }) as const
export const app = (id: string) => ({ type: 'app', id }) as const
export const channel = (id: string) => ({ type: 'channel', id }) as const
export const apiKey = (id: string) => ({ type: 'apiKey', id }) as const

/** Parses the rows of a Markdown table: each row's cells, trimmed, header and rule rows dropped. */
export function markdownRows(table: string): string[][] {
  return table
    .trim()
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.startsWith('|'))
    .map((line) =>
      line
        .slice(1, -1)
        .split('|')
        .map((cell) => cell.trim()),
    )
    .filter((cells) => !cells.every((cell) => /^-+$/.test(cell)))
    .slice(1)
}
