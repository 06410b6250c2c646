/**
 * `npm start`, until the server lands: a short story told by the engine itself, with the preset chosen by
 * ORGKIT_MODEL (default capgo). Every line printed is a real decision of the Authorizer.
 */
import { Authorizer } from './engine/authorizer.ts'
import { emptySnapshot, type Subject, type Target } from './engine/data.ts'
import { presets } from './model/presets/index.ts'

const name = process.env.ORGKIT_MODEL ?? 'capgo'
const model = presets[name]
if (!model) {
  console.error(`Unknown ORGKIT_MODEL "${name}". Presets: ${Object.keys(presets).join(', ')}`)
  process.exit(1)
}
const isCapgo = name === 'capgo'
const authorizer = new Authorizer(model, emptySnapshot())
const [owner, member] = [model.org.creatorRole, model.org.defaultRole]
const hasApps = 'app' in model.resourceTypes && 'channel' in model.resourceTypes

authorizer.apply([
  { op: 'org.put', org: { id: 'acme', parentId: null, creatorId: 'alice' } },
  ...['alice', 'bob', 'carol'].flatMap((id) => [
    { op: 'user.put' as const, user: { id, mfaEnabled: id !== 'carol' } },
    { op: 'membership.put' as const, membership: { orgId: 'acme', userId: id, status: 'active' as const } },
  ]),
  {
    op: 'binding.put',
    binding: {
      id: 'b1',
      principal: { type: 'user', id: 'alice' },
      role: owner,
      scope: { type: 'org', id: 'acme' },
    },
  },
  {
    op: 'binding.put',
    binding: {
      id: 'b2',
      principal: { type: 'user', id: 'bob' },
      role: member,
      scope: { type: 'org', id: 'acme' },
    },
  },
  {
    op: 'binding.put',
    binding: {
      id: 'b3',
      principal: { type: 'user', id: 'carol' },
      role: member,
      scope: { type: 'org', id: 'acme' },
    },
  },
])
if (hasApps) {
  authorizer.apply([
    { op: 'resource.put', resource: { id: 'shop', orgId: 'acme', type: 'app', parentId: null } },
    { op: 'resource.put', resource: { id: 'staging', orgId: 'acme', type: 'channel', parentId: 'shop' } },
    { op: 'resource.put', resource: { id: 'production', orgId: 'acme', type: 'channel', parentId: 'shop' } },
  ])
}
if (isCapgo) {
  authorizer.apply([
    {
      op: 'binding.put',
      binding: {
        id: 'b4',
        principal: { type: 'user', id: 'bob' },
        role: 'app_reader',
        scope: { type: 'app', id: 'shop' },
      },
    },
    {
      op: 'override.put',
      override: {
        principal: { type: 'user', id: 'bob' },
        resourceId: 'staging',
        permission: 'channel.promote_bundle',
        effect: 'allow',
      },
    },
  ])
}

const questions: [string, string, Target][] = [
  ['alice', 'org.delete', { type: 'org', id: 'acme' }],
  ['bob', 'org.delete', { type: 'org', id: 'acme' }],
  ['carol', 'org.read', { type: 'org', id: 'acme' }],
  ...(hasApps
    ? ([
        ['bob', 'app.read', { type: 'app', id: 'shop' }],
        ['bob', 'channel.promote_bundle', { type: 'channel', id: 'staging' }],
        ['bob', 'channel.promote_bundle', { type: 'channel', id: 'production' }],
        ['carol', 'app.read', { type: 'app', id: 'shop' }],
      ] as [string, string, Target][])
    : []),
]
const ask = (heading: string) => {
  console.log(`\n${heading}`)
  for (const [who, permission, target] of questions) {
    const subject: Subject = { type: 'user', id: who }
    const { allowed, reason } = authorizer.check(subject, permission, target)
    console.log(
      `  ${allowed ? 'ALLOW' : 'deny '}  ${who.padEnd(6)} ${permission.padEnd(24)} ${`${target.type}:${target.id}`.padEnd(20)} (${reason})`,
    )
  }
}

console.log(`Orgkit engine demo — model "${name}". Alice created acme; Bob and Carol are members.`)
if (isCapgo)
  console.log('Bob is also an App Reader of "shop", allowed to associate bundles on "staging" only.')
ask('Decisions:')
authorizer.apply({ op: 'org.put', org: { id: 'acme', parentId: null, creatorId: 'alice', requireMfa: true } })
ask('acme now requires 2FA; Carol has none:')
const why = authorizer.explain({ type: 'user', id: 'bob' }, 'org.read', { type: 'org', id: 'acme' })
console.log('\nWhy may Bob see acme?', JSON.stringify(why.decidedBy))
console.log('\nThe server: npm start (see the README). The tests: npm test')
