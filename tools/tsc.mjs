#!/usr/bin/env node
// The project's TypeScript compiler: TypeScript 7, the native compiler, installed as `typescript-7`; a
// third of TypeScript 5.9's CPU for the same `tsc -b` here (~25 s instead of ~72 s, cold). TypeScript 5.9
// stays installed as `typescript` for what needs its JavaScript API (openapi-typescript) and for editors,
// and pack.test checks a consumer against the published declarations with it. Both packages declare a
// `tsc` bin, so which of them node_modules/.bin/tsc is depends on npm's link order: the scripts call this.
//
// `--builders 1`: TypeScript 7.0's `-b` builds referenced projects in parallel by default, and then fails
// to resolve a package whose exports point at a referenced project's dist/ before that project has emitted
// it (the published build, tsconfig.build.json). One project at a time, as TypeScript 5 builds; each
// project's own check is still spread over threads.
import { spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'

// typescript-7's bin is a Node launcher for its Go executable; this runs the executable itself.
const root = dirname(createRequire(import.meta.url).resolve('typescript-7/package.json'))
const { default: exePath } = await import(join(root, 'lib/getExePath.js'))
const args = process.argv.slice(2)
const build = args[0] === '-b' || args[0] === '--build'
const child = spawn(exePath(), [...args, ...(build ? ['--builders', '1'] : [])], { stdio: 'inherit' })
child.on('error', (error) => {
  console.error(`tsc: ${error.message}`)
  process.exit(1)
})
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)))
