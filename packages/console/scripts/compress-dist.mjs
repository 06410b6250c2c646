// Writes `<file>.br` (brotli, best) and `<file>.gz` (gzip -9) beside each text file of the built console,
// once per build, so the server sends them as they are (packages/server/src/static-files.ts) instead of
// compressing at request time. Files it has already compressed, and small ones, are left alone.
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { extname, join } from 'node:path'
import { brotliCompressSync, constants, gzipSync } from 'node:zlib'

const TEXT = new Set(['.html', '.js', '.mjs', '.css', '.json', '.map', '.svg', '.txt'])
const MIN_COMPRESSED = 512 // as static-files.ts: smaller files are sent as they are

/** Compresses what needs it under dir; the number of files compressed. */
export function compressDist(dir) {
  let count = 0
  for (const path of walk(dir)) {
    if (!TEXT.has(extname(path)) || existsSync(`${path}.br`)) continue
    try {
      if (compress(path)) count++
    } catch (error) {
      // Another build (a parallel `npm test` or start) replaced dist/ meanwhile: its own step compresses it.
      if (error.code !== 'ENOENT') throw error
    }
  }
  return count
}

function compress(path) {
  const raw = readFileSync(path)
  if (raw.length < MIN_COMPRESSED) return false
  const brotli = { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: raw.length }
  writeFileSync(`${path}.gz`, gzipSync(raw, { level: 9 }))
  writeFileSync(`${path}.br`, brotliCompressSync(raw, { params: brotli })) // last: the mark of a file done
  return true
}

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? walk(path) : [path]
  })
}
