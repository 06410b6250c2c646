import { createHmac, randomBytes } from 'node:crypto'
import type { FeedMac } from '../../src/index.ts'

/**
 * A change-feed MAC for store tests: HMAC-SHA-256 straight from node:crypto under keys given here (the
 * server derives its own from ORGKIT_SECRET_KEY), the first current. Written apart from the server's, so the
 * database's MAC is checked against node:crypto's.
 */
export function testFeedMac(keys: Record<string, Buffer> = { test: randomBytes(32) }): FeedMac {
  const [current, key] = Object.entries(keys)[0]!
  const pad = (byte: number) => Buffer.concat([key, Buffer.alloc(64 - key.length)]).map((b) => b ^ byte)
  return {
    current,
    pads: { inner: pad(0x36), outer: pad(0x5c) },
    mac: (kid, message) => (keys[kid] ? createHmac('sha256', keys[kid]).update(message).digest() : null),
  }
}
