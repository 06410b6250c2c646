export * from './roles.ts'
export * from './teams.ts'
