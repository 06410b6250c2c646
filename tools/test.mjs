#!/usr/bin/env node
// `npm test`: the lint, then the type check and the test files at the same time. The type check is
// TypeScript 7's `tsc -b` (tools/tsc.mjs; ~25 s of CPU on a fresh clone here); the tests keep two workers
// busy for minutes, so running them side by side costs the suite part of the type check's time instead of
// all of it. Either failing fails `npm test`, and the last lines say which.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const bin = (name) => fileURLToPath(new URL(`../node_modules/.bin/${name}`, import.meta.url))
const run = (command, args) =>
  new Promise((resolve) => {
    const child = spawn(command, args, { stdio: 'inherit' })
    child.on('error', (error) => {
      console.error(`${command}: ${error.message}`)
      resolve(1)
    })
    child.on('exit', (code) => resolve(code ?? 1))
  })

const lint = await run(bin('biome'), ['check', '.'])
if (lint !== 0) {
  console.error('npm test: the lint failed (biome check ., above)')
  process.exit(lint)
}
const [typecheck, tests] = await Promise.all([
  run(process.execPath, [fileURLToPath(new URL('./tsc.mjs', import.meta.url)), '-b']),
  run(bin('vitest'), ['run', ...process.argv.slice(2)]),
])
if (typecheck !== 0) console.error('npm test: the type check failed (tsc -b, above)')
if (tests !== 0) console.error('npm test: the tests failed (vitest run, above)')
process.exit(typecheck || tests)
