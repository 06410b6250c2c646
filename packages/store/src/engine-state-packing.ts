import type { Transform } from 'node:stream'
import { promisify } from 'node:util'
import { createBrotliDecompress, createInflateRaw, deflateRaw } from 'node:zlib'

/**
 * How an engine state's bytes are stored (engine-snapshots.repository.ts): raw deflate at level 1, on libuv's
 * threads, not the event loop, behind eight bytes of our own: "OKD1" and the state's length (u32,
 * little-endian). At 1M bindings (138 MB) that is 58 MB; brotli at quality 1, stored until December 2026
 * ("OKB2"), is 57 MB but its decompression cost ~0.25 s more CPU at each start (0.95-1.1 against
 * 0.72-0.78 s, most of either the kernel's page faults on the 138 MB written), for ~0.4 s less at each save
 * (1.5-1.7 against 2.0-2.6 s). Those states still read, and so do brotli states stored before the frame.
 *
 * The length lets a read decompress into one buffer of that size: zlib's one-shot decompression gathers its
 * output in 16 KB chunks and copies them into one buffer at the end, which at 1M bindings was ~1 s of CPU at
 * load ~7. It is inside the bytes the digest and the MAC cover, and a read checks the output against it.
 */
const DEFLATE = 0x31444b4f // "OKD1" read little-endian
const BROTLI = 0x32424b4f // "OKB2"
const FRAME = 8
/** No state is near this; a length past it is refused before anything is allocated. */
const MAX_STATE = 2 ** 31

const compress = promisify(deflateRaw)

/** The stored form of `state`. */
export async function packState(state: Uint8Array): Promise<Buffer> {
  const packed = await compress(state, { level: 1 })
  const framed = Buffer.allocUnsafe(FRAME + packed.length)
  framed.writeUInt32LE(DEFLATE, 0)
  framed.writeUInt32LE(state.length, 4)
  packed.copy(framed, FRAME)
  return framed
}

/**
 * Decompresses stored bytes handed over piece by piece, in order, as they are read: the read's next query
 * runs while the last pieces decompress, and the caller writes each piece into memory it reuses once
 * `write` resolves (no buffer of all the stored bytes, whose first writes alone cost ~0.2 s of page faults
 * at 1M bindings). What it decompressed is the caller's to trust or drop: `end` only says whether the bytes
 * decompressed to what their frame says.
 */
export interface Unpacker {
  /** Resolves once `piece` is consumed (its memory may then be written again). */
  write(piece: Uint8Array): Promise<void>
  /** The state, or null when the bytes do not decompress to what they say. */
  end(): Promise<Uint8Array | null>
  /** Drops what was decompressed (the bytes were refused). */
  abort(): void
}

/**
 * `limit`: the most the state may decompress to. The bytes are decompressed before their digest is known
 * (it is over all of them), so a frame planted by someone who can write the database but not MAC it could
 * otherwise claim any length up to MAX_STATE; the caller bounds it by the MACed stored size
 * (engine-state-parts.ts, STATE_RATIO_LIMIT).
 */
export function unpacker(limit = MAX_STATE - 1): Unpacker {
  let head = Buffer.alloc(0) // the first bytes, until the frame is whole
  let stream: Transform | null = null
  let length = -1 // unframed (brotli stored before the frame): not known
  let failed = false
  let finished: Promise<void> = Promise.resolve()
  // A stream that errs may never call back the write it was in: a write waits for this too.
  let closed: Promise<void> = Promise.resolve()
  const chunks: Buffer[] = []
  let total = 0

  /** Picks the decompressor by the frame; returns what of `bytes` is compressed data, or null. */
  const open = (bytes: Buffer): Buffer | null => {
    const magic = bytes.length >= FRAME ? bytes.readUInt32LE(0) : 0
    if (magic === DEFLATE || magic === BROTLI) {
      length = bytes.readUInt32LE(4)
      if (length === 0 || length >= MAX_STATE || length > limit) return null
    }
    // An output buffer longer than the state: it is written in place and never found full, so zlib neither
    // copies it nor allocates another, and each piece's output follows the last one's in it.
    const chunkSize = length < 0 ? undefined : length + 64
    stream = magic === DEFLATE ? createInflateRaw({ chunkSize }) : createBrotliDecompress({ chunkSize })
    const s = stream
    s.on('data', (chunk: Buffer) => {
      total += chunk.length
      if (total > (length >= 0 ? length : limit)) s.destroy(new Error('longer than its frame says'))
      else chunks.push(chunk)
    })
    finished = new Promise((resolve) => {
      s.on('error', () => {
        failed = true
        resolve()
      })
      s.on('end', resolve)
    })
    closed = new Promise((resolve) => s.on('close', resolve))
    return length < 0 ? bytes : bytes.subarray(FRAME)
  }

  /** `open`, a failure to make the stream (its output buffer too large to allocate) a refusal, not a throw. */
  const opened = (bytes: Buffer): Buffer | null => {
    try {
      return open(bytes)
    } catch {
      return null
    }
  }

  const feed = (bytes: Buffer): Promise<void> =>
    new Promise((resolve) => {
      if (failed || !stream || stream.destroyed) return resolve()
      stream.write(bytes, () => resolve()) // an error is the stream's 'error' too
      void closed.then(resolve)
    })

  return {
    async write(piece) {
      if (failed) return
      let bytes = Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength)
      if (!stream) {
        if (head.length + bytes.length < FRAME) {
          head = Buffer.concat([head, bytes])
          return
        }
        if (head.length > 0) bytes = Buffer.concat([head, bytes])
        const data = opened(bytes)
        if (data === null) {
          failed = true
          return
        }
        bytes = data
      }
      await feed(bytes)
    },
    async end() {
      if (!stream && !failed) {
        const data = opened(head)
        if (data === null) failed = true
        else await feed(data)
      }
      if (failed || !stream) return null
      stream.end()
      await finished
      if (failed || (length >= 0 && total !== length)) return null
      return join(chunks, total)
    },
    abort() {
      failed = true
      stream?.destroy()
      chunks.length = 0
    },
  }
}

/** The chunks as one buffer: a view when they lie one after another in one (a framed state), else a copy. */
function join(chunks: Buffer[], total: number): Buffer {
  const first = chunks[0]
  if (!first) return Buffer.alloc(0)
  let end = first.byteOffset
  for (const chunk of chunks) {
    if (chunk.buffer !== first.buffer || chunk.byteOffset !== end) return Buffer.concat(chunks, total)
    end += chunk.length
  }
  return Buffer.from(first.buffer, first.byteOffset, total)
}
