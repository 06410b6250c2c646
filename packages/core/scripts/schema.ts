/**
 * Writes packages/core/model.schema.json, the JSON Schema editors read for a model file (YAML through the
 * `# yaml-language-server: $schema=…` line, JSON through `$schema`), from the zod schemas `validateModel`
 * and the `tests:` section parse with. `npm run schema -w packages/core` after changing either;
 * test/model-schema.test.ts fails while the file differs from what this writes.
 */
import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { modelFileJsonSchema } from '../src/model/file/json-schema.ts'

const path = fileURLToPath(new URL('../model.schema.json', import.meta.url))
writeFileSync(path, `${JSON.stringify(modelFileJsonSchema(), null, 2)}\n`)
console.log(`wrote ${path}`)
