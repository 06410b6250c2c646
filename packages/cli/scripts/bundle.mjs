// In this repository `orgkit` runs one JavaScript file built from the TypeScript sources (the CLI, server,
// store, core and SDK), not the sources through tsx: loading ~300 modules through tsx's transform was most of
// a start (docs/performance.md, issue 25.1). The file is built with esbuild on first use and again whenever
// one of the files it was built from changes (its size or time, either way, as make and tsc -b judge), like
// the console's build; a build takes ~1 s. It lives in node_modules/.cache/orgkit/cli/. Packages from node_modules stay outside it,
// imported from where Node would find them from the importing source file, and every `import.meta.url` in
// the sources is the source file's own, so paths beside a source (the console's dist/, preset models, a
// package.json) resolve as they do under tsx.
import { createHash, randomUUID } from 'node:crypto'
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'

const WORKSPACES = ['core', 'store', 'server', 'cli', 'sdk']

/** The bundle of the repository at `repo` (this one by default; another in tests). */
export function bundler(repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')) {
  const cacheDir = join(repo, 'node_modules', '.cache', 'orgkit', 'cli')
  const manifestFile = join(cacheDir, 'manifest.json')
  const entry = join(repo, 'packages', 'cli', 'src', 'cli.ts')
  /** What changes how the sources resolve and build, besides the sources themselves (esbuild reads tsconfig). */
  const alwaysWatched = () => [
    fileURLToPath(import.meta.url),
    join(repo, 'package-lock.json'),
    join(repo, 'tsconfig.json'),
    join(repo, 'tsconfig.base.json'),
    ...WORKSPACES.flatMap((name) => [
      join(repo, 'packages', name, 'package.json'),
      join(repo, 'packages', name, 'tsconfig.json'),
    ]),
  ]

  const readManifest = () => {
    try {
      return JSON.parse(readFileSync(manifestFile, 'utf8'))
    } catch {
      return null
    }
  }

  /** The built file when it is up to date, else null. */
  function upToDate() {
    const manifest = readManifest()
    if (!manifest) return null
    const file = join(cacheDir, manifest.file)
    if (!existsSync(file)) return null
    for (const [path, was] of Object.entries(manifest.inputs))
      if (stamp(join(repo, path)) !== was) return null
    return file
  }

  /** Builds the file now (whether stale or not) and makes it the current one; returns its path. */
  async function build() {
    // Stamps are taken before the build: a source saved while it runs makes the next start build again.
    const before = new Map()
    const walk = (dir) => {
      for (const entry of existsSync(dir) ? readdirSync(dir, { withFileTypes: true }) : []) {
        const path = join(dir, entry.name)
        if (entry.isDirectory()) walk(path)
        else before.set(path, stamp(path))
      }
    }
    for (const name of WORKSPACES) walk(join(repo, 'packages', name, 'src'))
    for (const path of alwaysWatched()) before.set(path, stamp(path))

    const esbuild = await import('esbuild')
    const result = await esbuild
      .build({
        ...FROM_SOURCES,
        entryPoints: [entry],
        // The metafile's input paths are relative to this; the process's own directory may be anywhere.
        absWorkingDir: repo,
        sourcemap: 'linked', // NODE_OPTIONS=--enable-source-maps maps stack traces to the sources
        sourcesContent: false,
        metafile: true,
        write: false,
        // A command's code in chunks of its own (`await import`): `--help` or an admin command over the API
        // loads neither the server nor PGlite.
        splitting: true,
        outdir: join(cacheDir, 'next'),
        entryNames: 'orgkit',
        chunkNames: '[name]-[hash]',
        outExtension: { '.js': '.mjs' }, // under node_modules no package.json says "type": "module"
      })
      // esbuild's service process would otherwise live as long as the server (~70 MB resident).
      .finally(() => esbuild.stop())
    const inputs = {}
    for (const path of [
      ...Object.keys(result.metafile.inputs).map((p) => resolve(repo, p)),
      ...alwaysWatched(),
    ])
      if (!path.includes(`${join('node_modules', '')}`))
        inputs[relative(repo, path)] = before.get(path) ?? stamp(path)
    const previous = readManifest()?.file.split('/')[0]
    const id = createHash('sha256').update(JSON.stringify(inputs)).digest('hex').slice(0, 12)
    const dir = `build-${id}`
    // Written aside and renamed: processes starting at the same moment each see a whole build, never half.
    const aside = join(cacheDir, `.${dir}-${randomUUID().slice(0, 8)}`)
    for (const output of result.outputFiles) {
      const path = join(aside, relative(join(cacheDir, 'next'), output.path))
      mkdirSync(dirname(path), { recursive: true })
      writeFileSync(path, output.contents)
    }
    try {
      renameSync(aside, join(cacheDir, dir))
    } catch {
      rmSync(aside, { recursive: true, force: true }) // made by another process at the same moment
    }
    writeFileSync(
      `${manifestFile}${aside.slice(-9)}`,
      JSON.stringify({ file: join(dir, 'orgkit.mjs'), inputs }, null, 1),
    )
    renameSync(`${manifestFile}${aside.slice(-9)}`, manifestFile)
    // Older builds go, but for the one this replaces (a process may have read the manifest just before) and
    // any a live process runs: a server started from it loads its commands' chunks lazily, maybe days later.
    for (const name of readdirSync(cacheDir))
      if (name.startsWith('build-') && name !== dir && name !== previous && !inUse(join(cacheDir, name)))
        rmSync(join(cacheDir, name), { recursive: true, force: true })
    return join(cacheDir, dir, 'orgkit.mjs')
  }

  return {
    cacheDir,
    upToDate,
    build,
    /** The current build: the cached one, or one made now. */
    current: async () => upToDate() ?? (await build()),
  }
}

/** This repository's current bundle: the cached one, or one made now. */
export const bundledCli = () => bundler().current()

/**
 * Marks the build holding `file` as run by this process until it exits (a file named by its pid in the
 * build's `.in-use/`), so that a later build does not delete chunks this process may still load.
 */
export function holdBuild(file) {
  const lease = join(dirname(file), '.in-use', String(process.pid))
  mkdirSync(dirname(lease), { recursive: true })
  writeFileSync(lease, '')
  process.once('exit', () => rmSync(lease, { force: true }))
}

/** Whether a live process runs this build (a lease of a process that has ended is removed). */
function inUse(buildDir) {
  const leases = join(buildDir, '.in-use')
  let live = false
  for (const pid of existsSync(leases) ? readdirSync(leases) : []) {
    try {
      process.kill(Number(pid), 0)
      live = true
    } catch (error) {
      if (error.code === 'EPERM')
        live = true // alive, another user's
      else rmSync(join(leases, pid), { force: true })
    }
  }
  return live
}

const stamp = (path) => {
  const stat = statSync(path, { throwIfNoEntry: false })
  return stat ? `${stat.size}:${stat.mtimeMs}` : 'missing'
}

/**
 * Packages built into the bundle rather than imported from node_modules. Node resolves, reads, compiles and
 * links each module of a package on its own: Kysely's 262 took ~0.2 s of a start's CPU (one file of them
 * ~0.03 s), zod, Hono and the OpenAPI layer over them (~170 modules) ~0.2 s (one file ~0.1 s). Each set is
 * closed: no package left outside imports one of them (it would get a second copy, and zod's schemas or
 * Hono's errors from one copy fail the other's instanceof), and none reads files beside its code
 * (import.meta.url would be the bundle's). package-lock.json is watched: an install builds again.
 */
const BUILT_IN = new Set([
  'kysely',
  'zod',
  'hono',
  '@hono/node-server',
  '@hono/zod-openapi',
  '@hono/zod-validator',
  '@asteasolutions/zod-to-openapi',
])

/**
 * Every other bare import of a package from node_modules (not a workspace's @orgkit/*) stays an import, of
 * the file Node would load for it from the importing source, so a package's copy nested under one
 * workspace's node_modules is still the one that workspace gets.
 */
const externalPackages = {
  name: 'orgkit-external-packages',
  setup(build) {
    build.onResolve({ filter: /^[^./#]/ }, async (args) => {
      if (args.path.startsWith('@orgkit/') || args.path.startsWith('node:') || args.pluginData?.inner) return
      if (BUILT_IN.has(packageName(args.path))) return
      if (builtins.has(args.path.split('/')[0])) return { path: args.path, external: true }
      const found = await build.resolve(args.path, {
        kind: args.kind,
        importer: args.importer,
        resolveDir: args.resolveDir,
        pluginData: { inner: true },
      })
      if (found.errors.length) return { errors: found.errors }
      return { path: pathToFileURL(found.path).href, external: true }
    })
    // The source's own URL, file and folder for import.meta's (esbuild would leave the bundle's).
    build.onLoad({ filter: /\/packages\/[a-z]+\/src\/.*\.ts$/ }, (args) => ({
      contents: readFileSync(args.path, 'utf8')
        .replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href))
        .replaceAll('import.meta.filename', JSON.stringify(args.path))
        .replaceAll('import.meta.dirname', JSON.stringify(dirname(args.path))),
      loader: 'ts',
    }))
  },
}

const builtins = new Set((await import('node:module')).builtinModules)

/** `kysely` of `kysely/helpers/postgres`, `@scope/name` of `@scope/name/sub`. */
const packageName = (specifier) =>
  specifier
    .split('/')
    .slice(0, specifier.startsWith('@') ? 2 : 1)
    .join('/')

/** How a repository source becomes JavaScript that runs as it does under tsx: the CLI's bundle, a test's. */
const FROM_SOURCES = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  conditions: ['@orgkit/source'],
  keepNames: true, // error and class names as in the sources, though two modules' names collide
  logLevel: 'silent',
  plugins: [externalPackages],
}

/**
 * Builds one TypeScript source of this repository, and what it imports of the workspaces, into the single
 * file `outfile`, as the CLI's bundle is built: a test that starts a server process many times runs it so
 * (packages/server/test/crash.test.ts) instead of loading ~300 modules through tsx each time.
 */
export async function bundleFile(entry, outfile) {
  const esbuild = await import('esbuild')
  await esbuild.build({ ...FROM_SOURCES, entryPoints: [entry], outfile })
  return outfile
}

// `node packages/cli/scripts/bundle.mjs [--repo <dir>]`: builds the bundle when stale and says which.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const began = performance.now()
  const { values } = parseArgs({ options: { repo: { type: 'string' } } })
  const { upToDate, build } = bundler(values.repo && resolve(values.repo))
  const fresh = upToDate()
  console.log(
    fresh
      ? `cli: ${fresh} is up to date`
      : `cli: built ${await build()} in ${((performance.now() - began) / 1000).toFixed(1)} s`,
  )
}
