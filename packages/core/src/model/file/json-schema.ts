import { z } from 'zod'
import { modelSchema } from '../schema.ts'
import { modelTestsSchema } from './tests-schema.ts'

/** The schema of a whole model file: the model's fields, `$schema`, and `tests`. */
export const modelFileSchema = modelSchema.extend({
  $schema: z.string().optional().describe('Where this file’s JSON Schema is, for editors'),
  tests: modelTestsSchema.optional().describe('Worlds and the answers the model must give in them'),
})

/** The JSON Schema of a model file, as published in `@orgkit/core/model.schema.json`. */
export function modelFileJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(modelFileSchema, { io: 'input', unrepresentable: 'any' }),
    $id: 'https://orgkit.dev/model.schema.json',
    title: 'Orgkit model file',
    description:
      'An authorization model for Orgkit (docs/models.md): resource types, permissions, roles, and tests.',
  }
}
