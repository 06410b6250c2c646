import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { extname, join, relative, sep } from 'node:path'
import { promisify } from 'node:util'
import { brotliCompress, constants, gzip } from 'node:zlib'

/**
 * The console's built files, known by name when the server starts (so no request path ever reaches the
 * file system), each answered in the best encoding the browser accepts: brotli, then gzip, then as is.
 * `npm run build` / build-if-stale.mjs write `<file>.br` and `<file>.gz` beside each file (best
 * compression, once); a file without them is compressed on its first request (faster settings) and the
 * result kept for the process's life. Only text is compressed; images and fonts are already.
 */
export type Encoding = 'br' | 'gzip' | 'identity'

export interface StaticFile {
  type: string
  etag: string
  /** The bytes for an encoding; compressed on first use when the build left no variant. */
  body(encoding: Encoding): Promise<Uint8Array>
  compressible: boolean
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.txt': 'text/plain; charset=utf-8',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
}
const TEXT = new Set(['.html', '.js', '.mjs', '.css', '.json', '.map', '.svg', '.txt'])
/** Below this, a compressed reply saves less than its headers cost. */
const MIN_COMPRESSED = 512

const brotli = promisify(brotliCompress)
const gzipAsync = promisify(gzip)
const ON_REQUEST = {
  br: (raw: Uint8Array) =>
    brotli(raw, { params: { [constants.BROTLI_PARAM_QUALITY]: 5 } }) as Promise<Uint8Array>,
  gzip: (raw: Uint8Array) => gzipAsync(raw, { level: 6 }) as Promise<Uint8Array>,
}

/** Every file under root, by its URL path (`/assets/index-abc.js`); the `.br`/`.gz` variants are not listed. */
export function loadStaticFiles(root: string): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>()
  for (const path of walk(root)) {
    const ext = extname(path)
    if (ext === '.br' || ext === '.gz') continue
    files.set(`/${relative(root, path).split(sep).join('/')}`, staticFile(path, ext))
  }
  return files
}

function staticFile(path: string, ext: string): StaticFile {
  const raw = readFileSync(path)
  const compressible = TEXT.has(ext) && raw.length >= MIN_COMPRESSED
  const made = new Map<Encoding, Promise<Uint8Array>>([['identity', Promise.resolve(raw)]])
  return {
    type: TYPES[ext] ?? 'application/octet-stream',
    // Weak: the same file is sent in several encodings, each byte-different.
    etag: `W/"${createHash('sha256').update(raw).digest('base64url').slice(0, 22)}"`,
    compressible,
    body(encoding) {
      const want = compressible ? encoding : 'identity'
      let body = made.get(want)
      if (!body) {
        const built = `${path}.${want === 'br' ? 'br' : 'gz'}`
        body = existsSync(built)
          ? Promise.resolve(readFileSync(built))
          : ON_REQUEST[want as 'br' | 'gzip'](raw)
        made.set(want, body)
      }
      return body
    },
  }
}

/** The encoding to answer with for an Accept-Encoding header: brotli, then gzip, honouring `q=0`. */
export function chooseEncoding(acceptEncoding: string | undefined): Encoding {
  const accepted = new Map<string, number>()
  for (const part of (acceptEncoding ?? '').split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';')
    if (!name) continue
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='))
    accepted.set(name, q ? Number(q.slice(2)) || 0 : 1)
  }
  const ok = (name: string) => (accepted.get(name) ?? accepted.get('*') ?? 0) > 0
  if (ok('br')) return 'br'
  if (ok('gzip')) return 'gzip'
  return 'identity'
}

/** The files under `dir`, dotfiles left out (the build's `.production` mark is not the site's). */
function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    if (name.startsWith('.')) return []
    const path = join(dir, name)
    return statSync(path).isDirectory() ? walk(path) : [path]
  })
}
