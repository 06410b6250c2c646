import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { PartRows } from '../src/engine-state-parts.ts'

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1')
const i16 = (n: number) => Buffer.from([(n >> 8) & 0xff, n & 0xff])
const i32 = (n: number) => {
  const b = Buffer.alloc(4)
  b.writeInt32BE(n)
  return b
}
const header = (extension = Buffer.alloc(0), flags = 0) =>
  Buffer.concat([SIGNATURE, i32(flags), i32(extension.length), extension])
/** A row of `select part, data`: two fields, `part` an int4. */
const row = (part: number, data: Buffer | null) =>
  Buffer.concat([
    i16(2),
    i32(4),
    i32(part),
    data === null ? i32(-1) : Buffer.concat([i32(data.length), data]),
  ])
const END = i16(-1)

/** `stream` handed over in pieces of the given lengths (the rest as one), as COPY's messages could come. */
function read(
  stream: Buffer,
  pieces: number[],
  rows: { first?: number; expected?: number; limit?: number } = {},
) {
  const parts = new PartRows(rows.first ?? 0, rows.expected ?? 3, rows.limit ?? stream.length)
  let at = 0
  for (const n of [...pieces, stream.length]) {
    parts.write(stream.subarray(at, Math.min(stream.length, at + n)))
    at = Math.min(stream.length, at + n)
  }
  return parts.end()
}

/**
 * The stored state's parts as COPY's binary format brings them (engine-state-parts.ts): whatever lengths its
 * messages have, the rows' data one after another — and nothing from rows that are out of place, null, past
 * what the MACed size leaves, or from a stream that does not end as COPY ends.
 */
describe('the parts read from COPY', () => {
  const data = [randomBytes(1000), randomBytes(1000), randomBytes(17)]
  const whole = Buffer.concat(data)
  const stream = Buffer.concat([header(), row(0, data[0]!), row(1, data[1]!), row(2, data[2]!), END])

  it('reads the rows whole, however the bytes are split into messages', () => {
    expect(read(stream, [])).toEqual(whole)
    expect(read(stream, Array(stream.length).fill(1))?.equals(whole)).toBe(true) // a byte at a time
    for (let i = 0; i < 50; i++) {
      const pieces = Array.from({ length: 8 }, () => Math.floor(Math.random() * 700))
      expect(read(stream, pieces)?.equals(whole), `split ${pieces}`).toBe(true)
    }
  })

  it('starts at the part it is told, skips a header extension, and reads an empty part', () => {
    const later = Buffer.concat([header(Buffer.from('ext')), row(8, data[0]!), row(9, Buffer.alloc(0)), END])
    expect(read(later, [5, 20], { first: 8 })).toEqual(data[0])
  })

  it('grows past the buffer it was given, and reuses one long enough', () => {
    const small = new PartRows(0, 1, stream.length, Buffer.alloc(10))
    small.write(stream)
    expect(small.end()).toEqual(whole)
    const kept = Buffer.alloc(5000)
    const reused = new PartRows(0, 3, stream.length, kept)
    reused.write(stream)
    expect(reused.end()?.buffer).toBe(kept.buffer)
  })

  it('refuses a part out of place, a missing one, or a null', () => {
    expect(read(Buffer.concat([header(), row(1, data[0]!), END]), [])).toBeNull()
    expect(read(Buffer.concat([header(), row(0, data[0]!), row(2, data[1]!), END]), [])).toBeNull()
    expect(read(Buffer.concat([header(), row(0, null), END]), [])).toBeNull()
  })

  it('refuses bytes past what the stored size leaves, before holding them', () => {
    expect(read(stream, [], { limit: whole.length })).toEqual(whole)
    const short = new PartRows(0, 3, whole.length - 1)
    short.write(stream)
    expect(short.end()).toBeNull()
    expect(short.buffer.length).toBeLessThan(whole.length)
  })

  it('refuses a stream that does not end as COPY ends, or goes on after it', () => {
    expect(read(stream.subarray(0, stream.length - 2), [])).toBeNull()
    expect(read(stream.subarray(0, stream.length - 40), [])).toBeNull()
    expect(read(Buffer.concat([stream, Buffer.from([0])]), [])).toBeNull()
  })

  it('ignores the flags a later PostgreSQL may add without changing the format (bits 17–31)', () => {
    const whole = read(stream, [])
    expect(whole).not.toBeNull()
    for (const bit of [17, 24, 31])
      expect(read(Buffer.concat([header(undefined, 1 << bit), stream.subarray(19)]), [])).toEqual(whole)
  })

  it('refuses another format: no signature, flags set, another field count or field width', () => {
    expect(
      read(Buffer.concat([Buffer.from('PGCOPX\n\xff\r\n\0', 'latin1'), stream.subarray(11)]), []),
    ).toBeNull()
    expect(read(Buffer.concat([header(undefined, 1 << 16), stream.subarray(19)]), [])).toBeNull()
    expect(read(Buffer.concat([header(undefined, 1), stream.subarray(19)]), [])).toBeNull()
    const three = Buffer.concat([i16(3), i32(4), i32(0), i32(1), Buffer.from([1]), i32(-1)])
    expect(read(Buffer.concat([header(), three, END]), [])).toBeNull()
    const wide = Buffer.concat([i16(2), i32(8), Buffer.alloc(8), i32(1), Buffer.from([1])])
    expect(read(Buffer.concat([header(), wide, END]), [])).toBeNull()
  })
})
