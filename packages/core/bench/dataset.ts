/**
 * A deterministic capgo world for the benchmark: orgs, apps, channels, users, memberships, role bindings,
 * groups and channel overrides, built from a seeded PRNG (never Math.random), so every run at the same
 * scale loads byte-for-byte the same snapshot.
 *
 * At scale 1: 10,000 orgs, 50,000 apps, ~100,000 channels, 100,000 users, ~850,000 memberships and about
 * 1,000,000 role bindings. Org sizes are skewed (a log-normal weight drives both how many apps an org has and
 * how many members it attracts), so a few orgs have hundreds of apps and thousands of members.
 */
import type {
  BindingRecord,
  GroupMemberRecord,
  GroupRecord,
  MembershipRecord,
  OrgRecord,
  OverrideRecord,
  ResourceRecord,
  Snapshot,
  UserRecord,
} from '../src/index.ts'

// --- PRNG ------------------------------------------------------------------------------------------

/** sfc32, seeded through splitmix32: small, fast, and good enough for synthetic data. */
export class Rng {
  private a: number
  private b: number
  private c: number
  private d: number
  private spare: number | null = null

  constructor(seed: number) {
    let s = seed >>> 0
    const split = () => {
      s = (s + 0x9e3779b9) >>> 0
      let z = s
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
      return (z ^ (z >>> 16)) >>> 0
    }
    this.a = split()
    this.b = split()
    this.c = split()
    this.d = split()
    for (let i = 0; i < 12; i++) this.next()
  }

  /** Uniform in [0, 1). */
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0
    this.d = (this.d + 1) | 0
    this.a = this.b ^ (this.b >>> 9)
    this.b = (this.c + (this.c << 3)) | 0
    this.c = (this.c << 21) | (this.c >>> 11)
    this.c = (this.c + t) | 0
    return (t >>> 0) / 4294967296
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n)
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!
  }

  /** Standard normal (Box–Muller). */
  gaussian(): number {
    if (this.spare !== null) {
      const v = this.spare
      this.spare = null
      return v
    }
    let u = 0
    while (u === 0) u = this.next()
    const v = this.next()
    const r = Math.sqrt(-2 * Math.log(u))
    this.spare = r * Math.sin(2 * Math.PI * v)
    return r * Math.cos(2 * Math.PI * v)
  }
}

/** Samples indices in proportion to their weights (cumulative table + binary search). */
export class WeightedSampler {
  private readonly cumulative: Float64Array

  constructor(weights: ArrayLike<number>) {
    this.cumulative = new Float64Array(weights.length)
    let sum = 0
    for (let i = 0; i < weights.length; i++) {
      sum += weights[i]!
      this.cumulative[i] = sum
    }
  }

  sample(rng: Rng): number {
    const c = this.cumulative
    const x = rng.next() * c[c.length - 1]!
    let lo = 0
    let hi = c.length - 1
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (c[mid]! > x) hi = mid
      else lo = mid + 1
    }
    return lo
  }
}

/** Picks one of `choices` by its weight. */
function weighted<T>(rng: Rng, choices: readonly (readonly [T, number])[]): T {
  let total = 0
  for (const [, w] of choices) total += w
  let x = rng.next() * total
  for (const [value, w] of choices) {
    x -= w
    if (x < 0) return value
  }
  return choices[choices.length - 1]![0]
}

// --- the world ---------------------------------------------------------------------------------------

export const ORG_ROLES = ['org_super_admin', 'org_admin', 'org_billing_admin', 'org_member'] as const
export const APP_ROLES = ['app_admin', 'app_developer', 'app_uploader', 'app_reader'] as const
export const OVERRIDABLE = ['channel.read', 'channel.read_history', 'channel.promote_bundle'] as const

/** Non-creator members' org roles. */
const MEMBER_ROLE_MIX = [
  ['org_member', 80],
  ['org_admin', 10],
  ['org_billing_admin', 7],
  ['org_super_admin', 3],
] as const
const APP_ROLE_MIX = [
  ['app_reader', 35],
  ['app_uploader', 20],
  ['app_developer', 30],
  ['app_admin', 15],
] as const
const GROUP_ORG_ROLE_MIX = [
  ['org_member', 50],
  ['org_admin', 30],
  ['org_billing_admin', 20],
] as const
/** App bindings per user: 0 to 3, mean 1.2. */
const APP_BINDINGS_PER_USER = [
  [0, 30],
  [1, 35],
  [2, 20],
  [3, 15],
] as const

/** Spread of org sizes: log-normal sigma. 1 puts the biggest org of 10,000 at ~25x the mean. */
const ORG_SIZE_SIGMA = 1
/** Memberships per user: 6 to 11 in all (mean 8.5), counting the orgs the user created. */
const MIN_MEMBERSHIPS = 6
const EXTRA_MEMBERSHIPS = 6
const PENDING_RATE = 0.05

export const orgId = (i: number) => `o${i}`
export const appId = (i: number) => `a${i}`
export const channelId = (i: number) => `c${i}`
export const userId = (i: number) => `u${i}`
export const groupId = (i: number) => `g${i}`

/**
 * Indexes over the generated data, by dense number, for building query mixes and change streams without
 * re-deriving them from the snapshot.
 */
export interface World {
  readonly orgCount: number
  readonly appCount: number
  readonly channelCount: number
  readonly userCount: number
  readonly orgSampler: WeightedSampler
  /** App → org. */
  readonly appOrg: Int32Array
  /** Channel → app. */
  readonly channelApp: Int32Array
  /** App → its first channel index; its channels are `appFirstChannel[a] ..< appFirstChannel[a + 1]`. */
  readonly appFirstChannel: Int32Array
  readonly orgApps: readonly number[][]
  /** Every member (active or pending) of each org. */
  readonly orgMembers: readonly number[][]
  /** Active members of each org. */
  readonly orgActive: readonly number[][]
  readonly orgGroups: readonly number[][]
  /** Users with a binding on the app. */
  readonly appUsers: ReadonlyMap<number, readonly number[]>
}

export interface DatasetStats {
  orgs: number
  apps: number
  channels: number
  users: number
  memberships: number
  pendingMemberships: number
  groups: number
  groupMembers: number
  bindings: number
  orgBindings: number
  appBindings: number
  groupBindings: number
  overrides: number
  largestOrgApps: number
  largestOrgMembers: number
}

export interface Dataset {
  snapshot: Snapshot
  world: World
  stats: DatasetStats
}

/** `ORGKIT_BENCH_SCALE` (default 1): 0.01 is ~10k bindings, 0.1 ~100k, 1 ~1M. */
export function benchScale(): number {
  const raw = process.env.ORGKIT_BENCH_SCALE
  if (raw === undefined || raw === '') return 1
  const scale = Number(raw)
  if (!Number.isFinite(scale) || scale <= 0) throw new Error(`ORGKIT_BENCH_SCALE must be > 0, got "${raw}"`)
  return scale
}

export function generateDataset(scale = 1, seed = 20240601): Dataset {
  const rng = new Rng(seed)
  const nOrgs = Math.max(3, Math.round(10_000 * scale))
  const nApps = Math.max(nOrgs, Math.round(50_000 * scale))
  const nUsers = Math.max(20, Math.round(100_000 * scale))

  // Orgs, with a skewed size weight.
  const orgWeight = new Float64Array(nOrgs)
  for (let i = 0; i < nOrgs; i++) orgWeight[i] = Math.exp(ORG_SIZE_SIGMA * rng.gaussian())
  const orgSampler = new WeightedSampler(orgWeight)
  const orgs: OrgRecord[] = []
  for (let i = 0; i < nOrgs; i++) orgs.push({ id: orgId(i), parentId: null, creatorId: null })

  // Apps: one per org, the rest by org weight. Channels: 1 to 3 per app.
  const appOrg = new Int32Array(nApps)
  const orgApps: number[][] = Array.from({ length: nOrgs }, () => [])
  for (let a = 0; a < nApps; a++) {
    const o = a < nOrgs ? a : orgSampler.sample(rng)
    appOrg[a] = o
    orgApps[o]!.push(a)
  }
  const resources: ResourceRecord[] = []
  for (let a = 0; a < nApps; a++)
    resources.push({ id: appId(a), orgId: orgId(appOrg[a]!), type: 'app', parentId: null })
  const appFirstChannel = new Int32Array(nApps + 1)
  const channelOfApp: number[] = []
  for (let a = 0; a < nApps; a++) {
    appFirstChannel[a] = channelOfApp.length
    const count = 1 + rng.int(3)
    for (let k = 0; k < count; k++) {
      const c = channelOfApp.length
      channelOfApp.push(a)
      resources.push({ id: channelId(c), orgId: orgId(appOrg[a]!), type: 'channel', parentId: appId(a) })
    }
  }
  appFirstChannel[nApps] = channelOfApp.length
  const channelApp = Int32Array.from(channelOfApp)
  const nChannels = channelApp.length

  const users: UserRecord[] = []
  for (let u = 0; u < nUsers; u++) users.push({ id: userId(u), mfaEnabled: rng.next() < 0.6 })

  // Memberships, each with its org-scope role binding (a pending invitation carries its role too).
  const memberships: MembershipRecord[] = []
  const bindings: BindingRecord[] = []
  let nextBinding = 0
  const bindingId = () => `b${nextBinding++}`
  const orgMembers: number[][] = Array.from({ length: nOrgs }, () => [])
  const orgActive: number[][] = Array.from({ length: nOrgs }, () => [])
  const userOrgs: number[][] = Array.from({ length: nUsers }, () => [])
  const userActiveOrgs: number[][] = Array.from({ length: nUsers }, () => [])
  let pending = 0
  const join = (u: number, o: number, status: 'active' | 'pending', role: string) => {
    memberships.push({ orgId: orgId(o), userId: userId(u), status })
    orgMembers[o]!.push(u)
    userOrgs[u]!.push(o)
    if (status === 'active') {
      orgActive[o]!.push(u)
      userActiveOrgs[u]!.push(o)
    } else pending++
    bindings.push({
      id: bindingId(),
      principal: { type: 'user', id: userId(u) },
      role,
      scope: { type: 'org', id: orgId(o) },
    })
  }
  for (let o = 0; o < nOrgs; o++) {
    const creator = rng.int(nUsers)
    orgs[o]!.creatorId = userId(creator)
    join(creator, o, 'active', 'org_super_admin')
  }
  for (let u = 0; u < nUsers; u++) {
    const want = Math.min(nOrgs - 1, MIN_MEMBERSHIPS + rng.int(EXTRA_MEMBERSHIPS))
    const mine = userOrgs[u]!
    for (let tries = 0; mine.length < want && tries < want * 20; tries++) {
      const o = orgSampler.sample(rng)
      if (mine.includes(o)) continue
      join(u, o, rng.next() < PENDING_RATE ? 'pending' : 'active', weighted(rng, MEMBER_ROLE_MIX))
    }
  }
  const orgBindings = bindings.length

  // App-scope bindings: mostly on apps of the user's own orgs, some for outside collaborators.
  const appUsers = new Map<number, number[]>()
  const seenAppBinding = new Set<number>()
  for (let u = 0; u < nUsers; u++) {
    const count = weighted(rng, APP_BINDINGS_PER_USER)
    const active = userActiveOrgs[u]!
    for (let k = 0; k < count; k++) {
      const a = active.length > 0 && rng.next() < 0.85 ? rng.pick(orgApps[rng.pick(active)]!) : rng.int(nApps)
      const key = u * nApps + a
      if (seenAppBinding.has(key)) continue
      seenAppBinding.add(key)
      const list = appUsers.get(a)
      if (list === undefined) appUsers.set(a, [u])
      else list.push(u)
      bindings.push({
        id: bindingId(),
        principal: { type: 'user', id: userId(u) },
        role: weighted(rng, APP_ROLE_MIX),
        scope: { type: 'app', id: appId(a) },
      })
    }
  }
  const appBindings = bindings.length - orgBindings

  // Groups: 1 or 2 per org, 3 to 8 active members, an org role and/or app roles.
  const groups: GroupRecord[] = []
  const groupMembers: GroupMemberRecord[] = []
  const orgGroups: number[][] = Array.from({ length: nOrgs }, () => [])
  for (let o = 0; o < nOrgs; o++) {
    const count = 1 + rng.int(2)
    for (let k = 0; k < count; k++) {
      const g = groups.length
      const gid = groupId(g)
      groups.push({ id: gid, orgId: orgId(o), role: null })
      orgGroups[o]!.push(g)
      const active = orgActive[o]!
      const size = Math.min(active.length, 3 + rng.int(6))
      const chosen = new Set<number>()
      while (chosen.size < size) chosen.add(rng.pick(active))
      for (const u of chosen) groupMembers.push({ groupId: gid, userId: userId(u) })
      const principal = { type: 'group', id: gid } as const
      if (rng.next() < 0.6) {
        bindings.push({
          id: bindingId(),
          principal,
          role: weighted(rng, GROUP_ORG_ROLE_MIX),
          scope: { type: 'org', id: orgId(o) },
        })
      }
      if (rng.next() < 0.7) {
        const apps = orgApps[o]!
        const n = Math.min(apps.length, 1 + rng.int(2))
        const picked = new Set<number>()
        while (picked.size < n) picked.add(rng.pick(apps))
        for (const a of picked) {
          bindings.push({
            id: bindingId(),
            principal,
            role: weighted(rng, APP_ROLE_MIX),
            scope: { type: 'app', id: appId(a) },
          })
        }
      }
    }
  }
  const groupBindings = bindings.length - orgBindings - appBindings

  // Channel overrides: users (members of the channel's org) and groups, allow or deny.
  const overrides: OverrideRecord[] = []
  const seenOverride = new Set<string>()
  const wantOverrides = Math.round(40_000 * scale)
  for (let tries = 0; overrides.length < wantOverrides && tries < wantOverrides * 4; tries++) {
    const c = rng.int(nChannels)
    const o = appOrg[channelApp[c]!]!
    const permission = rng.pick(OVERRIDABLE)
    const active = orgActive[o]!
    const principal =
      rng.next() < 0.75 || orgGroups[o]!.length === 0
        ? ({ type: 'user', id: userId(active.length > 0 ? rng.pick(active) : rng.int(nUsers)) } as const)
        : ({ type: 'group', id: groupId(rng.pick(orgGroups[o]!)) } as const)
    const key = `${principal.type}:${principal.id}|${c}|${permission}`
    if (seenOverride.has(key)) continue
    seenOverride.add(key)
    overrides.push({
      principal,
      resourceId: channelId(c),
      permission,
      effect: rng.next() < 0.5 ? 'allow' : 'deny',
    })
  }

  const snapshot: Snapshot = {
    orgs,
    resources,
    users,
    memberships,
    groups,
    groupMembers,
    bindings,
    overrides,
    apiKeys: [],
    roles: [],
  }
  const world: World = {
    orgCount: nOrgs,
    appCount: nApps,
    channelCount: nChannels,
    userCount: nUsers,
    orgSampler,
    appOrg,
    channelApp,
    appFirstChannel,
    orgApps,
    orgMembers,
    orgActive,
    orgGroups,
    appUsers,
  }
  const stats: DatasetStats = {
    orgs: nOrgs,
    apps: nApps,
    channels: nChannels,
    users: nUsers,
    memberships: memberships.length,
    pendingMemberships: pending,
    groups: groups.length,
    groupMembers: groupMembers.length,
    bindings: bindings.length,
    orgBindings,
    appBindings,
    groupBindings,
    overrides: overrides.length,
    largestOrgApps: Math.max(...orgApps.map((a) => a.length)),
    largestOrgMembers: Math.max(...orgMembers.map((m) => m.length)),
  }
  return { snapshot, world, stats }
}
