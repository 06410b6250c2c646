#!/usr/bin/env node
import { existsSync } from 'node:fs'
import { register } from 'node:module'

// Installed, @orgkit/cli runs its built JavaScript (dist/; the package ships no src/). In this repository
// it runs the TypeScript sources, as every workspace does (docs/packages.md): the "@orgkit/source" export
// condition for every import, as `node --conditions=@orgkit/source` would set, and tsx to load them.
if (existsSync(new URL('../src/cli.ts', import.meta.url))) {
  register(
    'data:text/javascript,export const resolve = (specifier, context, next) => next(specifier, { ...context, conditions: [...context.conditions, "@orgkit/source"] })',
  )
  const { register: tsx } = await import('tsx/esm/api')
  tsx()
}
await import('#cli')
