import { createRequire } from 'node:module'

/**
 * Public mail providers' domains (gmail.com, outlook.com, qq.com…): their people belong to no one
 * organization, so no org may claim one (issue 21.2). The list is `email-providers` (~8,700 domains, kept up
 * to date by its maintainer); a few providers it lacks are added here.
 */
const require = createRequire(import.meta.url)
const PROVIDERS: ReadonlySet<string> = new Set([
  ...(require('email-providers/all.json') as string[]),
  'fastmail.com',
  'tutanota.com',
  'tuta.io',
])

/** Whether a normalised domain is a public mail provider's. */
export const isPublicMailDomain = (domain: string): boolean => PROVIDERS.has(domain)
