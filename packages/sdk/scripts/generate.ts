import { writeFile } from 'node:fs/promises'
import { generatedSchema } from './document.ts'

// npm run generate -w @orgkit/sdk — rewrites src/schema.ts; the SDK test fails when it is stale.
const target = new URL('../src/schema.ts', import.meta.url)
await writeFile(target, await generatedSchema())
console.log(`wrote ${target.pathname}`)
