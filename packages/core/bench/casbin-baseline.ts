/**
 * The baseline: the same capgo data in casbin's RBAC-with-domains model, answering the same query mix.
 *
 * Mapping (approximate on purpose; what casbin cannot say is left out, see docs/performance.md):
 * - request `(sub, dom, app, act)`: the user, the target's org, the target's app (`''` for an org target;
 *   a channel's parent app for a channel) and the permission key;
 * - `p(role, act)`: one rule per (role, permission) of the capgo preset (~130 rules);
 * - `g(user, role, org)` for a user's org-scope binding, written only while the membership is active;
 *   `g(user, role, app)` for an app-scope binding (the app id is the domain);
 * - groups as casbin roles: `g(group, role, org|app)` for the group's binding, and `g(member, group, domain)`
 *   for each active member, once per domain the group has a binding in;
 * - matcher: `r.act == p.act && (g(r.sub, p.sub, r.dom) || g(r.sub, p.sub, r.app))`.
 * Not mapped: channel overrides (user-decides / group deny-beats-allow), sub-org slot replacement, team
 * roles, binding expiry, membership changes after load (they rewrite `g` rules), policy gates, API keys.
 */
import type { Adapter, Model as CasbinModel, Enforcer } from 'casbin'
import { newEnforcer, newModelFromString } from 'casbin'
import { type Model, presets, type Snapshot } from '../src/index.ts'
import { generateDataset } from './dataset.ts'
import {
  fmtInt,
  fmtMB,
  fmtNs,
  fmtPct,
  heapUsed,
  line,
  msSince,
  now,
  type Percentiles,
  percentiles,
  section,
  type ThroughputResult,
  timeEach,
} from './measure.ts'
import type { Workload } from './workload.ts'

export const CASBIN_MODEL = `
[request_definition]
r = sub, dom, app, act

[policy_definition]
p = sub, act

[role_definition]
g = _, _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = r.act == p.act && (g(r.sub, p.sub, r.dom) || g(r.sub, p.sub, r.app))
`

export interface CasbinRules {
  p: string[][]
  g: string[][]
  /** Bindings left out: a user's org binding without an active membership, or a member not active. */
  skipped: number
}

/** Translates the snapshot into casbin policy rows, as a database adapter would produce them. */
export function casbinRules(model: Model, snapshot: Snapshot): CasbinRules {
  const p: string[][] = []
  for (const [key, role] of Object.entries(model.roles))
    for (const perm of role.permissions) p.push([key, perm])

  const active = new Set<string>()
  for (const m of snapshot.memberships) if (m.status === 'active') active.add(`${m.orgId}|${m.userId}`)
  const groupOrg = new Map<string, string>()
  for (const group of snapshot.groups) groupOrg.set(group.id, group.orgId)
  const groupMembers = new Map<string, string[]>()
  for (const member of snapshot.groupMembers) {
    const orgId = groupOrg.get(member.groupId)!
    if (!active.has(`${orgId}|${member.userId}`)) continue
    const list = groupMembers.get(member.groupId)
    if (list === undefined) groupMembers.set(member.groupId, [member.userId])
    else list.push(member.userId)
  }

  const g: string[][] = []
  const groupDomains = new Set<string>()
  let skipped = 0
  const now = Date.now()
  for (const b of snapshot.bindings) {
    if (b.role === 'team' || (b.expiresAt != null && b.expiresAt <= now)) {
      skipped++
      continue
    }
    const domain = b.scope.id
    if (b.principal.type === 'user') {
      if (b.scope.type === 'org' && !active.has(`${domain}|${b.principal.id}`)) {
        skipped++
        continue
      }
      g.push([b.principal.id, b.role, domain])
      continue
    }
    g.push([b.principal.id, b.role, domain])
    const key = `${b.principal.id}|${domain}`
    if (groupDomains.has(key)) continue
    groupDomains.add(key)
    for (const userId of groupMembers.get(b.principal.id) ?? []) g.push([userId, b.principal.id, domain])
  }
  return { p, g, skipped }
}

/** Hands pre-built rows to casbin's loader (what `Helper.loadPolicyLine` does, without CSV parsing). */
class RowsAdapter implements Adapter {
  constructor(private rules: CasbinRules | null) {}

  async loadPolicy(model: CasbinModel): Promise<void> {
    const rules = this.rules
    if (rules === null) return
    const p = model.model.get('p')?.get('p')
    const g = model.model.get('g')?.get('g')
    if (!p || !g) throw new Error('casbin model lacks p or g')
    for (const row of rules.p) p.policy.push(row)
    for (const row of rules.g) g.policy.push(row)
    this.rules = null
  }
  async savePolicy(): Promise<boolean> {
    return true
  }
  async addPolicy(): Promise<void> {}
  async removePolicy(): Promise<void> {}
  async removeFilteredPolicy(): Promise<void> {}
}

export async function loadCasbin(rules: CasbinRules): Promise<Enforcer> {
  return newEnforcer(newModelFromString(CASBIN_MODEL), new RowsAdapter(rules))
}

// --- the run ---------------------------------------------------------------------------------------------

const CASBIN_APPLY_SAMPLE = 100

export interface CasbinRun {
  mapMs: number
  loadMs: number
  rules: { p: number; g: number; skipped: number }
  heapBytes: number
  throughput: ThroughputResult
  check: Percentiles
  agreement: { compared: number; mismatches: number; mismatchesOnOverrides: number }
  apply: Percentiles
}

/** Regenerates the data, maps it to casbin rows and loads an enforcer; the data is garbage on return. */
async function buildCasbin(scale: number): Promise<{
  enforcer: Enforcer
  mapMs: number
  loadMs: number
  ruleCounts: { p: number; g: number; skipped: number }
}> {
  const snapshot = generateDataset(scale).snapshot
  let t = now()
  const rules = casbinRules(presets.capgo!, snapshot)
  const mapMs = msSince(t)
  const ruleCounts = { p: rules.p.length, g: rules.g.length, skipped: rules.skipped }
  t = now()
  const enforcer = await loadCasbin(rules)
  return { enforcer, mapMs, loadMs: msSince(t), ruleCounts }
}

/**
 * Loads casbin on the same data and runs the engine's query mix through it: throughput for `seconds`,
 * each check timed, agreement with the engine's answers (`ours`), and a few incremental updates.
 */
export async function runCasbin(
  workload: Workload,
  ours: Uint8Array,
  heapWorkload: number,
  scale: number,
  seconds: number,
): Promise<CasbinRun> {
  section('casbin: load (same data, regenerated)')
  const { enforcer, mapMs, loadMs, ruleCounts } = await buildCasbin(scale)
  // Measured here, not inside buildCasbin: a function's own (dead) temporaries can keep the snapshot alive.
  const heapBytes = heapUsed() - heapWorkload
  line(
    'rows built from the snapshot in',
    `${fmtInt(mapMs)} ms (${fmtInt(ruleCounts.p)} p, ${fmtInt(ruleCounts.g)} g, ${fmtInt(ruleCounts.skipped)} bindings not mapped)`,
  )
  line(
    'newEnforcer(model, adapter)',
    `${fmtInt(loadMs)} ms (loads ${fmtInt(ruleCounts.g)} g rows, builds role links)`,
  )
  line('heap: enforcer', fmtMB(heapBytes))

  section('casbin: enforceSync')
  const queries = workload.queries
  const requests = queries
    .slice(0, Math.min(queries.length, 200_000))
    .map((q) => [q.subject.id, q.orgId, q.appId, q.permission] as const)
  for (let i = 0; i < Math.min(2_000, requests.length); i++) enforcer.enforceSync(...requests[i]!)
  const n = requests.length
  let i = 0
  let checks = 0
  let allowed = 0
  const t = now()
  const deadline = t + BigInt(Math.round(seconds * 1e9))
  for (;;) {
    for (let k = 0; k < 256; k++) {
      if (enforcer.enforceSync(...requests[i]!)) allowed++
      if (++i === n) i = 0
    }
    checks += 256
    if (now() >= deadline) break
  }
  const ms = msSince(t)
  const throughput = { checks, ms, perSec: (checks / ms) * 1000, allowedRate: allowed / checks }
  line(
    'throughput (1 thread)',
    `${fmtInt(throughput.perSec)} checks/s (${fmtInt(checks)} in ${fmtInt(ms)} ms)`,
  )
  line('amortized per check', fmtNs(1e9 / throughput.perSec))

  const compared = Math.min(ours.length, requests.length)
  const theirs = new Uint8Array(compared)
  const check = percentiles(
    timeEach(compared, (j) => {
      theirs[j] = enforcer.enforceSync(...requests[j]!) ? 1 : 0
    }),
  )
  line(`per check (${fmtInt(compared)} timed, raw)`, fmtPct(check))
  let mismatches = 0
  let mismatchesOnOverrides = 0
  for (let j = 0; j < compared; j++) {
    if (ours[j] === theirs[j]) continue
    mismatches++
    if (queries[j]!.overridden) mismatchesOnOverrides++
  }
  line(
    'agreement with the engine',
    `${(((compared - mismatches) / compared) * 100).toFixed(2)}% of ${fmtInt(compared)} (${fmtInt(mismatches)} differ, ${fmtInt(mismatchesOnOverrides)} of them on overridden channels)`,
  )

  // A few incremental updates, for scale: each add scans the g rows for a duplicate.
  section('casbin: addGroupingPolicy / removeGroupingPolicy')
  const applyCount = Math.min(CASBIN_APPLY_SAMPLE, queries.length)
  const added: string[][] = []
  const times = new Float64Array(applyCount * 2)
  for (let j = 0; j < applyCount; j++) {
    const q = queries[j]!
    const row = [q.subject.id, 'app_reader', `bench-${j}`]
    added.push(row)
    const t0 = now()
    await enforcer.addGroupingPolicy(...row)
    times[j] = Number(now() - t0)
  }
  for (let j = 0; j < applyCount; j++) {
    const t0 = now()
    await enforcer.removeGroupingPolicy(...added[j]!)
    times[applyCount + j] = Number(now() - t0)
  }
  const apply = percentiles(times)
  line(`per change (${fmtInt(times.length)})`, fmtPct(apply))

  return {
    mapMs,
    loadMs,
    rules: ruleCounts,
    heapBytes,
    throughput,
    check,
    agreement: { compared, mismatches, mismatchesOnOverrides },
    apply,
  }
}
