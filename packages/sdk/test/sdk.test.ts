import { readFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { generatedSchema } from '../scripts/document.ts'

describe('sdk', () => {
  it('schema.ts matches the OpenAPI document the app serves (npm run generate -w @orgkit/sdk)', async () => {
    const committed = await readFile(new URL('../src/schema.ts', import.meta.url), 'utf8')
    expect(
      committed === (await generatedSchema()),
      'schema.ts is stale: run npm run generate -w @orgkit/sdk',
    ).toBe(true)
  })
})
