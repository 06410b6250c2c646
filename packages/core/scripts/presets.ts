/**
 * Writes src/model/presets/<name>.ts from models/<name>.yaml: the model files are the presets' one source,
 * and the TypeScript is their image, so that the main entry of core needs no file system and each
 * preset's permission keys stay a literal type (`PresetPermission<'capgo'>`). `npm run presets -w
 * packages/core` after editing a model file; test/model-files.test.ts fails while the two differ.
 */
import { execFileSync } from 'node:child_process'
import { readdirSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { loadModelFile } from '../src/files/index.ts'

const root = fileURLToPath(new URL('..', import.meta.url))
const camel = (name: string) => name.replace(/-(\w)/g, (_, c: string) => c.toUpperCase())
const pascal = (name: string) => camel(name).replace(/^\w/, (c) => c.toUpperCase())

for (const file of readdirSync(`${root}models`).filter((f) => f.endsWith('.yaml'))) {
  const name = file.replace(/\.yaml$/, '')
  const { model } = loadModelFile(`${root}models/${file}`)
  writeFileSync(
    `${root}src/model/presets/${name}.ts`,
    `// Generated from models/${file} by \`npm run presets -w packages/core\`: edit the model file, not this one.
import type { Model, PermissionOf } from '../model.ts'

const definition = ${JSON.stringify(model, null, 2)} as const satisfies Model

/** The ${name} preset's permission keys as a literal union, for code written against it. */
export type ${pascal(name)}Permission = PermissionOf<typeof definition>

export const ${camel(name)}: Model = definition
`,
  )
  console.log(`src/model/presets/${name}.ts ← models/${file}`)
}
execFileSync('npx', ['biome', 'format', '--write', `${root}src/model/presets`], { stdio: 'inherit' })
