import { randomUUID } from 'node:crypto'
import { OrgkitError } from '@orgkit/core'
import type { HonoRequest } from 'hono'

/** What every request gets, whichever HTTP path answers it (app.ts, hot/listener.ts). */

/** The caller's `X-Request-Id` when it is a plain token, else a fresh one; echoed in the response. */
export const requestIdOf = (given: string | undefined): string =>
  given && /^[\w.-]{1,100}$/.test(given) ? given : randomUUID()

/** A body must be JSON: anything else would reach the handlers unvalidated. */
export function assertJsonBody(contentType: string | undefined): void {
  if (contentType && !/^application\/json\b/i.test(contentType)) {
    throw new OrgkitError('VALIDATION_FAILED', 'send the body as application/json', { field: 'content-type' })
  }
}

/** A 1000-check batch is ~150 KiB; nothing the API takes comes near this. */
export const MAX_BODY_BYTES = 1024 * 1024

export const bodyTooLarge = () =>
  new OrgkitError('VALIDATION_FAILED', `the body is larger than ${MAX_BODY_BYTES / 1024} KiB`, {
    field: 'body',
  })

/**
 * A request's body, read once, refused past MAX_BODY_BYTES. A declared length is checked before a byte is
 * read, and the body then comes straight from the socket (@hono/node-server's direct read: Node's parser
 * delivers exactly that many bytes); hono's bodyLimit went through a WHATWG Request and its stream, ~0.3 ms
 * of CPU a write (docs/performance.md). Without a declared length (chunked) it is read as a stream and
 * refused as soon as it passes the limit. Either way later readers (the validators) get it from the
 * request's body cache.
 */
export async function readBody(req: HonoRequest): Promise<Uint8Array> {
  const declared = req.header('content-length')
  if (declared !== undefined && /^\d+$/.test(declared) && req.header('transfer-encoding') === undefined) {
    if (Number(declared) > MAX_BODY_BYTES) throw bodyTooLarge()
    return new Uint8Array(await req.arrayBuffer())
  }
  const reader = req.raw.body?.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const read = await reader?.read()
    if (!read || read.done) break
    size += read.value.byteLength
    if (size > MAX_BODY_BYTES) {
      void reader!.cancel()
      throw bodyTooLarge()
    }
    chunks.push(read.value)
  }
  const body = Buffer.concat(chunks)
  cacheOf(req).arrayBuffer = Promise.resolve(body.buffer.slice(body.byteOffset, body.byteOffset + size))
  return body
}

/**
 * Where hono keeps a body already read, for its readers (`c.req.json()` parses `text`, else decodes what
 * is there): promises, though hono declares the cache with `Body`'s methods.
 */
export const cacheOf = (req: HonoRequest) =>
  req.bodyCache as { arrayBuffer?: Promise<ArrayBuffer>; text?: Promise<string> }
