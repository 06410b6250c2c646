import { promisify } from 'node:util'
import { brotliCompress, brotliDecompress, constants, createBrotliDecompress } from 'node:zlib'

/**
 * How an engine state's bytes are stored (engine-snapshots.repository.ts): brotli at its fastest (a
 * 1M-binding state, 138 MB, becomes ~57 MB in ~0.7 s each way), on libuv's threads, not the event loop, behind
 * eight bytes of our own: "OKB2" and the state's length (u32, little-endian). The length lets a read
 * decompress into one buffer of that size: zlib's one-shot decompression gathers its output in 16 KB chunks
 * and copies them into one buffer at the end, which at 1M bindings was ~1 s of CPU at load ~7 — as much as
 * the decompression. Bytes without the eight (written before) are decompressed as before.
 *
 * The length is inside the bytes the digest and the MAC cover, and a read checks the output against it.
 */
const MAGIC = 0x32424b4f // "OKB2" read little-endian
const FRAME = 8
/** No state is near this; a length past it is refused before anything is allocated. */
const MAX_STATE = 2 ** 31

const compress = promisify(brotliCompress)
const decompress = promisify(brotliDecompress)
const FAST = { [constants.BROTLI_PARAM_QUALITY]: 1, [constants.BROTLI_PARAM_LGWIN]: 22 }

/** The stored form of `state`. */
export async function packState(state: Uint8Array): Promise<Buffer> {
  const packed = await compress(state, {
    params: { ...FAST, [constants.BROTLI_PARAM_SIZE_HINT]: state.length },
  })
  const framed = Buffer.allocUnsafe(FRAME + packed.length)
  framed.writeUInt32LE(MAGIC, 0)
  framed.writeUInt32LE(state.length, 4)
  packed.copy(framed, FRAME)
  return framed
}

/** The state `packState` stored, or null when the bytes do not decompress to what they say. */
export async function unpackState(stored: Uint8Array): Promise<Uint8Array | null> {
  const bytes = Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength)
  if (bytes.length < FRAME || bytes.readUInt32LE(0) !== MAGIC) return decompress(bytes).catch(() => null) // written before the frame
  const length = bytes.readUInt32LE(4)
  if (length === 0 || length >= MAX_STATE) return null
  const out = await new Promise<Buffer[] | null>((resolve) => {
    // An output buffer longer than the state: it is written in place and never found full, so zlib neither
    // copies it nor allocates another.
    const stream = createBrotliDecompress({ chunkSize: length + 64 })
    const chunks: Buffer[] = []
    let total = 0
    stream.on('data', (chunk: Buffer) => {
      total += chunk.length
      if (total > length) stream.destroy(new Error('longer than its frame says'))
      else chunks.push(chunk)
    })
    stream.on('error', () => resolve(null))
    stream.on('end', () => resolve(chunks))
    stream.end(bytes.subarray(FRAME))
  })
  if (out === null) return null
  const state = out.length === 1 ? out[0]! : Buffer.concat(out)
  return state.length === length ? state : null
}
