/**
 * The byte layout of an engine state (engine-state.ts): a header, then numbers in a Float64 block, ints in
 * an Int32 block, strings (each once, joined by NUL, UTF-8) and typed arrays, each kind read back in the
 * order it was written. Typed arrays are the machine's byte order; the header says which, and a reader on
 * the other order refuses the bytes.
 *
 * Header (56 bytes): "OKES", 0x01020304 as the machine writes it, format (u32), 4 spare, revision (f64),
 * model fingerprint (16 ASCII), then the count of numbers, ints, string bytes and arrays (u32 each).
 *
 * Every block starts 8-aligned, so the reader hands out views of the bytes, not copies (when the bytes
 * themselves start 8-aligned, as a buffer of their own does): at 1M bindings the arrays are ~120 MB, and
 * copying them into fresh memory cost ~0.7 s of CPU on this VM, most of it the kernel's page faults
 * (~3 ms per MB first written), not the copy. What a restore keeps are then views of the state's buffer
 * (the reader's caller hands over bytes of their own, never written to or restored from again), until the
 * engine copies them into memory of its own after the start (`ownCopy`, `Authorizer.ownMemory`).
 */
export const MAGIC = 0x5345_4b4f // "OKES" read little-endian
export const HEADER = 56
export const ORDER = new Uint8Array(new Uint32Array([0x01020304]).buffer)

type Typed = Int32Array | Float64Array | Uint8Array
/** A typed array's constructor: of a length, or a view of a buffer. */
interface ArrayType<T extends Typed> {
  new (n: number): T
  new (buffer: ArrayBuffer, at: number, length: number): T
  BYTES_PER_ELEMENT: number
}
export const KIND: Record<string, number> = { Int32Array: 1, Float64Array: 2, Uint8Array: 3 }

export const pad8 = (n: number) => (n + 7) & ~7

export class StateWriter {
  private format = 0
  private model = ''
  private revision = 0
  private readonly ints: number[] = []
  private readonly numbers: number[] = []
  private readonly strings = new Map<string, number>()
  private readonly arrays: Typed[] = []

  header(format: number, model: string, revision: number): void {
    if (model.length !== 16) throw new Error('engine state: a model fingerprint is 16 characters')
    this.format = format
    this.model = model
    this.revision = revision
  }

  int(value: number): void {
    this.ints.push(value)
  }

  f64(value: number): void {
    this.numbers.push(value)
  }

  str(value: string): void {
    let index = this.strings.get(value)
    if (index === undefined) {
      if (value.includes('\0')) throw new Error('engine state: a string holds NUL')
      index = this.strings.size
      this.strings.set(value, index)
    }
    this.ints.push(index)
  }

  optStr(value: string | null): void {
    if (value === null) this.ints.push(-1)
    else this.str(value)
  }

  strs(values: Iterable<string>): void {
    const list = [...values]
    this.ints.push(list.length)
    for (const value of list) this.str(value)
  }

  optStrs(values: Iterable<string> | null): void {
    if (values === null) this.ints.push(-1)
    else this.strs(values)
  }

  /** A count, then `index` of each item. */
  list<T>(items: Iterable<T>, index: (item: T) => number): void {
    const at = this.ints.length
    this.ints.push(0)
    let count = 0
    for (const item of items) {
      this.ints.push(index(item))
      count++
    }
    this.ints[at] = count
  }

  i32s(array: Int32Array): void {
    this.arrays.push(array)
  }
  f64s(array: Float64Array): void {
    this.arrays.push(array)
  }
  u8s(array: Uint8Array): void {
    this.arrays.push(array)
  }

  finish(): Uint8Array {
    const text = new TextEncoder().encode([...this.strings.keys()].join('\0'))
    let size = HEADER + 8 * this.numbers.length + pad8(4 * this.ints.length) + pad8(text.length)
    for (const array of this.arrays) size += 8 + pad8(array.byteLength)
    const bytes = new Uint8Array(size)
    const view = new DataView(bytes.buffer)
    view.setUint32(0, MAGIC, true)
    bytes.set(ORDER, 4)
    view.setUint32(8, this.format, true)
    view.setFloat64(16, this.revision, true)
    for (let i = 0; i < 16; i++) bytes[24 + i] = this.model.charCodeAt(i)
    view.setUint32(40, this.numbers.length, true)
    view.setUint32(44, this.ints.length, true)
    view.setUint32(48, text.length, true)
    view.setUint32(52, this.arrays.length, true)
    let at = HEADER
    bytes.set(new Uint8Array(Float64Array.from(this.numbers).buffer), at)
    at += 8 * this.numbers.length
    bytes.set(new Uint8Array(Int32Array.from(this.ints).buffer), at)
    at += pad8(4 * this.ints.length)
    bytes.set(text, at)
    at += pad8(text.length)
    for (const array of this.arrays) {
      view.setUint32(at, KIND[array.constructor.name]!, true)
      view.setUint32(at + 4, array.length, true)
      bytes.set(new Uint8Array(array.buffer, array.byteOffset, array.byteLength), at + 8)
      at += 8 + pad8(array.byteLength)
    }
    return bytes
  }
}

export class StateReader {
  private readonly view: DataView
  private numbers = new Float64Array(0)
  private intBlock = new Int32Array(0)
  private strings: string[] = []
  private nextNumber = 0
  private nextInt = 0
  private arrays = 0
  private at = 0

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  }

  header(): { format: number; model: string; revision: number } {
    const bytes = this.bytes
    if (bytes.length < HEADER || this.view.getUint32(0, true) !== MAGIC) bad('not an engine state')
    for (let i = 0; i < 4; i++)
      if (bytes[4 + i] !== ORDER[i]) bad('written on a machine of the other byte order')
    const format = this.view.getUint32(8, true)
    const revision = this.view.getFloat64(16, true)
    const model = String.fromCharCode(...bytes.subarray(24, 40))
    const numbers = this.view.getUint32(40, true)
    const ints = this.view.getUint32(44, true)
    const text = this.view.getUint32(48, true)
    this.arrays = this.view.getUint32(52, true)
    let at = HEADER
    if (at + 8 * numbers + pad8(4 * ints) + pad8(text) > bytes.length) bad('truncated')
    this.numbers = arrayAt(bytes, at, numbers, Float64Array)
    at += 8 * numbers
    this.intBlock = arrayAt(bytes, at, ints, Int32Array)
    at += pad8(4 * ints)
    this.strings = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(at, at + text)).split('\0')
    this.at = at + pad8(text)
    return { format, model, revision }
  }

  int(): number {
    if (this.nextInt >= this.intBlock.length) bad('ran out of ints')
    return this.intBlock[this.nextInt++]!
  }

  /** The next int, left to read. */
  peek(): number {
    return this.intBlock[this.nextInt] ?? bad('ran out of ints')
  }

  f64(): number {
    if (this.nextNumber >= this.numbers.length) bad('ran out of numbers')
    return this.numbers[this.nextNumber++]!
  }

  str(): string {
    return this.strings[this.int()] ?? bad('a string out of range')
  }

  optStr(): string | null {
    const index = this.int()
    return index === -1 ? null : (this.strings[index] ?? bad('a string out of range'))
  }

  strs(): string[] {
    const list: string[] = new Array(this.int())
    for (let i = 0; i < list.length; i++) list[i] = this.str()
    return list
  }

  optStrs(): string[] | null {
    const count = this.int()
    if (count === -1) return null
    const list: string[] = new Array(count)
    for (let i = 0; i < count; i++) list[i] = this.str()
    return list
  }

  /** A `list` written by the writer: a view of the ints (no copy). */
  ints(): Int32Array {
    const count = this.int()
    if (count < 0 || this.nextInt + count > this.intBlock.length) bad('a list out of range')
    const list = this.intBlock.subarray(this.nextInt, this.nextInt + count)
    this.nextInt += count
    return list
  }

  i32s(): Int32Array<ArrayBuffer> {
    return this.array(1, Int32Array)
  }
  f64s(): Float64Array<ArrayBuffer> {
    return this.array(2, Float64Array)
  }
  u8s(): Uint8Array<ArrayBuffer> {
    return this.array(3, Uint8Array)
  }

  /** Everything read: a state with anything left over does not hold together. */
  end(): void {
    if (this.nextInt !== this.intBlock.length || this.nextNumber !== this.numbers.length || this.arrays !== 0)
      bad('bytes left over')
  }

  private array<T extends Typed>(kind: number, type: ArrayType<T>): T {
    if (this.arrays-- <= 0 || this.at + 8 > this.bytes.length) bad('ran out of arrays')
    if (this.view.getUint32(this.at, true) !== kind) bad('an array of another kind')
    const length = this.view.getUint32(this.at + 4, true)
    const start = this.at + 8
    this.at = start + pad8(length * type.BYTES_PER_ELEMENT)
    if (this.at > this.bytes.length) bad('truncated')
    return arrayAt(this.bytes, start, length, type)
  }
}

/**
 * `array` in memory of its own: a copy when it views part of a larger buffer (as `StateReader` hands them
 * out), else itself. A restored engine's arrays view the whole decompressed state, so one that no write has
 * grown yet keeps all of the state's bytes resident (~100 MB more at 1M bindings): `Authorizer.ownMemory`.
 */
export function ownCopy<T extends Typed>(array: T): T {
  return array.byteLength === array.buffer.byteLength ? array : (array.slice() as T)
}

/** `length` elements at `at`: a view of the bytes, or a copy when they are not aligned for the type. */
export function arrayAt<T extends Typed>(
  bytes: Uint8Array,
  at: number,
  length: number,
  type: ArrayType<T>,
): T {
  const offset = bytes.byteOffset + at
  if (bytes.buffer instanceof ArrayBuffer && offset % type.BYTES_PER_ELEMENT === 0)
    return new type(bytes.buffer, offset, length)
  const array = new type(length)
  new Uint8Array(array.buffer).set(bytes.subarray(at, at + length * type.BYTES_PER_ELEMENT))
  return array
}

export function bad(message: string): never {
  throw new Error(`engine state: ${message}`)
}
