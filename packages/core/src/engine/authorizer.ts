import type { Model } from '../model/model.ts'
import { ORG } from '../model/model.ts'
import { buildAccess, ensureAccess } from './access.ts'
import { applyChange, loadSnapshot, snapshotLoader } from './apply.ts'
import { type Belonging, belongingIn, belongingOf } from './belonging.ts'
import { CompiledModel, type CompiledPermission, type RoleHandle } from './compiled-model.ts'
import type { Change, Decision, Id, PrincipalRef, Snapshot, SnapshotPart, Subject, Target } from './data.ts'
import { DENY_NOT_FOUND } from './decisions.ts'
import { encodeGraph, restoreGraph } from './engine-state.ts'
import { decideForKey, decideForUser, passesGate, type Trace } from './evaluate.ts'
import { type ExplainFact, type Explanation, toExplainFact } from './explain-facts.ts'
import { Graph } from './graph.ts'
import { NONE, type OrgNode, type Principal, type ResourceNode, type UserNode } from './nodes.ts'
import { stateFingerprint } from './state-fingerprint.ts'

/** Records an id table hashes in one of `ownMemory`'s steps: ~10-25 ms of an event-loop turn. */
export const HASH_STEP = 65_536

export interface AuthorizerOptions {
  /** Epoch milliseconds; binding and key expiry are read against it. */
  clock?: () => number
  /**
   * Whether `check` first asks the dense index (dense.ts), default true. Off, every check walks the graph:
   * the tests run both and compare.
   */
  dense?: boolean
  /** Tests only: access-index entries beyond which the dense index keeps a Map (default 32). */
  denseScanLimit?: number
}

/**
 * Told of the decisions of an observed check (`Authorizer.observedBy`): usage metering, in the server.
 * Called once per check on the hot path, so it must not allocate, read a clock or throw.
 */
export interface CheckObserver {
  /**
   * A check about a target in the org `orgs[slot]` was answered (not one about a target that does not
   * exist, nor one that threw), whoever the subject. `orgs` is this engine's table of orgs by slot: the
   * same array for the engine's life, a slot never given to another org (a deleted org's entry becomes
   * null). So a count per org is an array increment, named when taken, not a lookup by id per check
   * (docs/performance.md). An engine that replaces this one (a reload) has a table of its own.
   */
  checked(slot: number, orgs: OrgTable): void
}

/** Orgs by slot (`CheckObserver`); other slots hold resources. */
export type OrgTable = readonly ({ readonly id: Id } | null)[]

/** A check bound to its observer (`Authorizer.observedBy`). */
export type ObservedCheck = (subject: Subject, permission: string, target: Target) => Decision

interface Located {
  org: OrgNode
  resource: ResourceNode | null
}

/**
 * The permission engine (SPEC 1.2): answers from an in-memory graph of the org's data, kept current by
 * `apply`. Checks allocate nothing; lists and explanations are built on the same decision walk.
 */
export class Authorizer {
  readonly compiled: CompiledModel
  private readonly graph: Graph
  private readonly clock: () => number
  private readonly dense: boolean

  constructor(model: Model | CompiledModel, snapshot?: Snapshot, options: AuthorizerOptions = {}) {
    this.compiled = model instanceof CompiledModel ? model : new CompiledModel(model)
    this.graph = new Graph(this.compiled, options.denseScanLimit)
    this.clock = options.clock ?? Date.now
    this.dense = options.dense ?? true
    if (snapshot) {
      loadSnapshot(this.graph, snapshot)
      this.loaded()
    }
  }

  /**
   * A new engine that takes its snapshot in parts (`SnapshotPart`, kind by kind in `SNAPSHOT_KINDS`
   * order): `add` each, then `done` returns the engine. The store streams its tables into this, so that an
   * instance never holds more than a part of the records beside the engine it is building.
   */
  static loading(
    model: Model | CompiledModel,
    options: AuthorizerOptions = {},
  ): { add(part: SnapshotPart): void; done(): Authorizer } {
    const authorizer = new Authorizer(model, undefined, options)
    const loader = snapshotLoader(authorizer.graph)
    return {
      add: (part) => loader.add(part),
      done: () => {
        loader.end()
        authorizer.loaded()
        return authorizer
      },
    }
  }

  /**
   * An engine from the bytes `encodeState` wrote (engine-state.ts), with the revision they reflect: no
   * rows read, nothing built. Throws on bytes of another format or model, or that do not hold together.
   * The engine keeps views of `bytes` and writes to them: hand it bytes of their own, used for nothing else.
   */
  static restore(
    model: Model | CompiledModel,
    bytes: Uint8Array,
    options: AuthorizerOptions = {},
  ): { authorizer: Authorizer; revision: number } {
    const authorizer = new Authorizer(model, undefined, options)
    const { revision } = restoreGraph(authorizer.graph, bytes, stateFingerprint(authorizer.model))
    return { authorizer, revision }
  }

  /**
   * After `restore`, each table still viewing the state's bytes copied into memory of its own, one table a
   * step (the bindings' table one array a step), then the id tables' records hashed (`IdTable.restore` leaves
   * them: 0.2-0.35 s at 1M bindings) and the users and resources put in the graph's Maps (`NodesById`),
   * `step` records a step (HASH_STEP; tests take a few): the caller spreads the steps over event-loop turns,
   * off the start's path. A restore takes
   * views to start fast (~0.7 s of page faults at 1M bindings to copy them), but any view no write has grown
   * keeps the whole decompressed state resident. Safe at any time: contents and offsets stay as they are,
   * and a lookup or write before the last step hashes the rest of its table itself.
   */
  *ownMemory(step = HASH_STEP): Generator<void, void> {
    const { bindings, dense } = this.graph
    yield* bindings.ownMemory()
    yield
    for (const table of [dense.users, dense.orgs, dense.resources, dense.access, dense.overrides]) {
      table.ownMemory()
      yield
    }
    for (const table of [dense.users, dense.orgs, dense.resources]) while (!table.hashRestored(step)) yield
    while (!bindings.hashIds(step)) yield
    while (!this.graph.indexRestored(step)) yield
  }

  /** This engine's state as bytes (engine-state.ts), saying it reflects `revision`. */
  encodeState(revision: number): Uint8Array {
    return encodeGraph(this.graph, revision, stateFingerprint(this.model))
  }

  /** Every user's access index up front, so a loaded engine answers at full speed (and its heap shows). */
  private loaded(): void {
    const now = this.clock()
    for (const user of this.graph.users.values()) buildAccess(this.graph, user, now)
    this.graph.dense.trim()
    this.graph.bindings.trim()
  }

  get model(): Model {
    return this.compiled.model
  }

  /** Applies changes in order. A change with a dangling reference throws and applies nothing of itself. */
  apply(change: Change | readonly Change[]): void {
    if (Array.isArray(change)) for (const c of change) applyChange(this.graph, c)
    else applyChange(this.graph, change as Change)
  }

  /** The decision. */
  check(subject: Subject, permission: string, target: Target): Decision {
    return this.checkTelling(subject, permission, target, null)
  }

  /**
   * `check`, telling `observer` (given once, here) of each decision: what the server's authorization API
   * answers goes through one, for usage metering; the server's own authorization calls `check`, which tells
   * no one. Make it once per observer, not per check: its checks allocate nothing.
   */
  observedBy(observer: CheckObserver): ObservedCheck {
    return (subject, permission, target) => this.checkTelling(subject, permission, target, observer)
  }

  private checkTelling(
    subject: Subject,
    permission: string,
    target: Target,
    observer: CheckObserver | null,
  ): Decision {
    const compiled = this.compiled.permissionFor(permission, target.type)
    const graph = this.graph
    if (subject.type === 'user' && this.dense) {
      const decision = graph.dense.check(subject.id, compiled, target, graph.epoch)
      if (decision !== null) {
        if (observer !== null) observer.checked(graph.dense.decidedIn, graph.dense.scopes)
        return decision
      }
    }
    // locate() and decide() inlined: no Located object per check.
    let org: OrgNode
    let resource: ResourceNode | null = null
    if (target.type === ORG) {
      const found = graph.orgs.get(target.id)
      if (found === undefined) return DENY_NOT_FOUND
      org = found
    } else {
      resource = graph.resources.get(target.id) ?? null
      if (resource === null || resource.type !== target.type) return DENY_NOT_FOUND
      org = resource.org
    }
    if (observer !== null) observer.checked(org.slot, graph.dense.scopes)
    if (subject.type === 'user') {
      const user = graph.users.get(subject.id)
      if (user === undefined) return DENY_NOT_FOUND
      // The dense index answers only past an open gate (or a user with 2FA): a request's own second
      // factor (`Subject.mfa`) is read here, off the common path.
      return decideForUser(graph, user, compiled, org, resource, this.clock(), null, subject.mfa === true)
    }
    const key = graph.apiKeys.get(subject.id)
    if (key === undefined) return DENY_NOT_FOUND
    return decideForKey(graph, key, compiled, org, resource, this.clock(), null)
  }

  explain(subject: Subject, permission: string, target: Target): Explanation {
    const compiled = this.compiled.permissionFor(permission, target.type)
    const at = this.locate(target)
    const trace: Trace = { facts: [] }
    const decision = at === null ? DENY_NOT_FOUND : this.decide(subject, compiled, at, trace)
    const facts = trace.facts.map((fact) => toExplainFact(this.graph.bindings, fact))
    const decisive = decision.reason !== 'no_grant' && decision.reason !== 'not_found'
    return {
      allowed: decision.allowed,
      reason: decision.reason,
      subject,
      permission,
      target,
      decidedBy: decisive ? (facts.at(-1) ?? null) : null,
      facts,
    }
  }

  /** Every resource of `type` (or every org, for `org`) on which the subject may do `permission`. */
  listResources(subject: Subject, permission: string, type: string): Id[] {
    const compiled = this.compiled.permissionFor(permission, type)
    const user = this.subjectUser(subject)
    if (user === null) return []
    // The subject and the clock once, not per candidate (a user may reach hundreds of apps).
    const now = this.clock()
    const key = subject.type === 'apiKey' ? (this.graph.apiKeys.get(subject.id) ?? null) : null
    const mfa = subject.type === 'user' && subject.mfa === true
    const allowed: Id[] = []
    // Candidates come from the user's access index: the orgs and resources where a counted role holds the
    // permission, and the resources below them; then allow-overrides. Each is decided as check decides.
    ensureAccess(this.graph, user, now)
    const dense = this.graph.dense
    const data = dense.access.data
    const end = dense.accessEnd(user)
    const candidates = new Set<OrgNode | ResourceNode>()
    // Orgs where the roles grant a permission that can't be overridden, to a user (not a key with limits):
    // every resource of the type there is allowed once the gate passes. Decided once, ids copied in bulk.
    const wholeOrgs = new Set<OrgNode>()
    for (let i = dense.accessStart(user); i < end; i += dense.entryStride) {
      if ((data[i + 1 + compiled.word]! & compiled.bit) === 0) continue
      const scope = dense.scopes[data[i]!]!
      if (!('chain' in scope)) {
        collectBelow(scope, type, candidates)
      } else if (type === ORG) {
        candidates.add(scope)
      } else if (key === null && !compiled.overridable) {
        if (passesGate(user, scope, mfa)) {
          for (const id of resourceIdsOf(scope, type)) allowed.push(id)
          wholeOrgs.add(scope)
        }
      } else {
        for (const resource of scope.resources.get(type) ?? []) candidates.add(resource)
      }
    }
    for (const member of [null, ...user.groups.values()]) {
      const overrides = member === null ? user.overrides : member.group.overrides
      for (const entry of overrides) {
        if (entry.permissionIndex === compiled.index && entry.effect === 'allow')
          collectBelow(entry.resource, type, candidates)
      }
    }
    for (const node of candidates) {
      const org = 'chain' in node ? node : node.org
      const resource = 'chain' in node ? null : node
      if (resource !== null && wholeOrgs.has(org)) continue
      const decision =
        key !== null
          ? decideForKey(this.graph, key, compiled, org, resource, now, null)
          : decideForUser(this.graph, user, compiled, org, resource, now, null, mfa)
      if (decision.allowed) allowed.push(node.id)
    }
    return allowed
  }

  /** Every user who may do `permission` on `target`. */
  listPrincipals(permission: string, target: Target): Id[] {
    const compiled = this.compiled.permissionFor(permission, target.type)
    const at = this.locate(target)
    if (at === null) return []
    const candidates = new Set<UserNode>()
    const add = (principal: Principal) => {
      if (!principal.isGroup) candidates.add(principal)
      else for (const member of principal.members.values()) candidates.add(member.user)
    }
    const t = this.graph.bindings
    for (let r = at.resource; r !== null; r = r.parent)
      for (let b = r.bindings; b !== NONE; b = t.sNext[b]!) add(t.principal[b]!)
    for (const org of at.org.chain)
      for (let b = org.bindings; b !== NONE; b = t.sNext[b]!) add(t.principal[b]!)
    for (const o of at.resource?.overrides ?? [])
      if (o.permissionIndex === compiled.index && o.effect === 'allow') add(o.principal)
    const now = this.clock()
    const allowed: Id[] = []
    for (const user of candidates) {
      if (decideForUser(this.graph, user, compiled, at.org, at.resource, now, null).allowed)
        allowed.push(user.id)
    }
    return allowed
  }

  /**
   * Who may do `permission` on `target` and every way each gets there (the Access tab, issue 26.4): for
   * each user `listPrincipals` finds, the bindings that count for them at the target — their own or a
   * group's, on it, on a resource above it or on an org of its chain, after slots, expiry and membership —
   * whose role grants the permission; and the allow override that decides, when one does. The same walk
   * as `check`, run without a permission so that it passes every binding instead of stopping at the first.
   */
  reach(permission: string, target: Target): { userId: Id; paths: ExplainFact[] }[] {
    const compiled = this.compiled.permissionFor(permission, target.type)
    const at = this.locate(target)
    if (at === null) return []
    const now = this.clock()
    const t = this.graph.bindings
    return this.listPrincipals(permission, target).map((userId) => {
      const user = this.graph.users.get(userId)!
      const walk: Trace = { facts: [] }
      decideForUser(this.graph, user, null, at.org, at.resource, now, walk)
      const paths = walk.facts.filter(
        (f) => f.kind === 'binding' && f.status === 'counted' && f.role?.grants[compiled.index] === 1,
      )
      const decided: Trace = { facts: [] }
      if (decideForUser(this.graph, user, compiled, at.org, at.resource, now, decided).reason === 'override')
        paths.push(decided.facts.at(-1)!)
      return { userId, paths: paths.map((fact) => toExplainFact(t, fact)) }
    })
  }

  /**
   * The permissions the subject holds at `target`: those on its type, as `check` answers, and those on the
   * types below it that hold for everything below (granted by roles at or above the target). The
   * no-escalation rule compares a role being granted against this set.
   */
  permissionsAt(subject: Subject, target: Target): Set<string> {
    const at = this.locate(target)
    const held = new Set<string>()
    if (at === null) return held
    const below = this.compiled.typesBelow.get(target.type)!
    for (const permission of this.compiled.permissionList) {
      if (below.has(permission.on) && this.decide(subject, permission, at, null).allowed)
        held.add(permission.key)
    }
    return held
  }

  /** The roles that count for the subject at `target` (after slots, expiry, membership and the gate). */
  rolesAt(subject: Subject, target: Target): RoleHandle[] {
    const at = this.locate(target)
    const user = this.subjectUser(subject)
    if (at === null || user === null) return []
    const trace: Trace = { facts: [] }
    const mfa = subject.type === 'user' && subject.mfa === true
    decideForUser(this.graph, user, null, at.org, at.resource, this.clock(), trace, mfa)
    const roles = new Set<RoleHandle>()
    for (const fact of trace.facts) {
      if (
        fact.kind === 'binding' &&
        fact.role !== null &&
        (fact.status === 'counted' || fact.status === 'grants')
      ) {
        roles.add(fact.role)
      }
    }
    return [...roles]
  }

  /** The highest priority among the subject's counted roles at `target`, or null with none. */
  rankAt(subject: Subject, target: Target): number | null {
    const roles = this.rolesAt(subject, target)
    return roles.length === 0 ? null : Math.max(...roles.map((r) => r.priority))
  }

  /** A role as bindings in `orgId` mean it: the model's, or that org's live custom role. */
  role(key: string, orgId: string): RoleHandle | undefined {
    const org = this.graph.orgs.get(orgId)
    const role = org ? this.graph.roleFor(key, org) : this.compiled.roles.get(key)
    return role?.live ? role : undefined
  }

  /** Whether the user exists (every user is in the engine: snapshot and change feed). */
  hasUser(id: Id): boolean {
    return this.graph.users.has(id)
  }

  /** The user's own membership of the org (not one inherited from an org above), or null without one. */
  membership(orgId: Id, userId: Id): 'active' | 'pending' | null {
    const org = this.graph.orgs.get(orgId)
    if (org === undefined) return null
    return org.active.has(userId) ? 'active' : org.pending.has(userId) ? 'pending' : null
  }

  /**
   * The bindings the principal holds right at `scope` (not above or below it), each with the role key it
   * names, expired ones included: every one the database holds there, as a new binding's uniqueness and slot
   * are checked against (the server asks inside the org's lock, where the engine has caught up). Empty when
   * the principal or the scope is unknown.
   */
  bindingsAt(principal: PrincipalRef, scope: Target): { id: Id; role: string }[] {
    const holder =
      principal.type === 'group' ? this.graph.groups.get(principal.id) : this.graph.users.get(principal.id)
    const at = this.locate(scope)
    if (holder === undefined || at === null) return []
    const node = at.resource ?? at.org
    const t = this.graph.bindings
    const found: { id: Id; role: string }[] = []
    for (let b = holder.bindings; b !== NONE; b = t.pNext[b]!)
      if (t.scope[b] === node) found.push({ id: t.idOf(b), role: t.roleKey(b) })
    return found
  }

  /**
   * How the subject belongs to the org (SPEC 1.4: member, inherited or external), or null when it doesn't.
   * An API key belongs where its owner does and its org limits reach.
   */
  belonging(subject: Subject, orgId: Id): Belonging | null {
    const org = this.graph.orgs.get(orgId)
    const user = this.subjectUser(subject)
    if (org === undefined || user === null || !this.keyReaches(subject, org)) return null
    return belongingIn(this.graph.bindings, user, org, this.model.org.subOrgs, this.clock())
  }

  /**
   * Whether the person behind the subject (an API key's owner, whatever the key's limits) belongs to the org:
   * who may be told why they are refused there (a gate, a key's limits) rather than that nothing is there.
   */
  personBelongs(subject: Subject, orgId: Id): boolean {
    const org = this.graph.orgs.get(orgId)
    const user = this.subjectUser(subject)
    if (org === undefined || user === null) return false
    return belongingIn(this.graph.bindings, user, org, this.model.org.subOrgs, this.clock()) !== null
  }

  /** Every org the subject belongs to, with how (an API key: within its org limits). */
  orgsOf(subject: Subject): { id: Id; belonging: Belonging }[] {
    const user = this.subjectUser(subject)
    if (user === null) return []
    const found = belongingOf(this.graph.bindings, user, this.model.org.subOrgs, this.clock())
    const orgs: { id: Id; belonging: Belonging }[] = []
    for (const [org, belonging] of found)
      if (this.keyReaches(subject, org)) orgs.push({ id: org.id, belonging })
    return orgs
  }

  private keyReaches(subject: Subject, org: OrgNode): boolean {
    if (subject.type !== 'apiKey') return true
    const key = this.graph.apiKeys.get(subject.id)
    if (key === undefined || key.revoked || key.expiresAt <= this.clock()) return false
    return key.orgIds === null || org.chain.some((o) => key.orgIds!.has(o.id))
  }

  /** Whether an API key may authenticate at all right now. */
  keyState(id: Id): 'ok' | 'unknown' | 'revoked' | 'expired' {
    const key = this.graph.apiKeys.get(id)
    if (key === undefined) return 'unknown'
    if (key.revoked) return 'revoked'
    return key.expiresAt <= this.clock() ? 'expired' : 'ok'
  }

  /** The org a target lives in (itself, for an org), or null when it does not exist. */
  orgOf(target: Target): Id | null {
    return this.graph.dense.orgIdOf(this.compiled.types.indexOf(target.type), target.id)
  }

  /**
   * A resource of the org and the resources above it, nearest first (itself first), or null when the org has
   * no resource with that id.
   */
  resourceChain(orgId: Id, id: Id): Target[] | null {
    const found = this.graph.resources.get(id)
    if (found === undefined || found.org.id !== orgId) return null
    const chain: Target[] = []
    for (let r: ResourceNode | null = found; r !== null; r = r.parent) chain.push({ type: r.type, id: r.id })
    return chain
  }

  /** Whether the org's chain holds the id (an org or a resource), for callers that need existence. */
  has(target: Target): boolean {
    return this.locate(target) !== null
  }

  private locate(target: Target): Located | null {
    if (target.type === ORG) {
      const org = this.graph.orgs.get(target.id)
      return org === undefined ? null : { org, resource: null }
    }
    const resource = this.graph.resources.get(target.id)
    if (resource === undefined || resource.type !== target.type) return null
    return { org: resource.org, resource }
  }

  private subjectUser(subject: Subject): UserNode | null {
    if (subject.type === 'user') return this.graph.users.get(subject.id) ?? null
    return this.graph.apiKeys.get(subject.id)?.owner ?? null
  }

  private decide(
    subject: Subject,
    permission: CompiledPermission,
    at: Located,
    trace: Trace | null,
  ): Decision {
    if (subject.type === 'user') {
      const user = this.graph.users.get(subject.id)
      if (user === undefined) return DENY_NOT_FOUND
      const { mfa } = subject
      return decideForUser(this.graph, user, permission, at.org, at.resource, this.clock(), trace, mfa)
    }
    const key = this.graph.apiKeys.get(subject.id)
    if (key === undefined) return DENY_NOT_FOUND
    return decideForKey(this.graph, key, permission, at.org, at.resource, this.clock(), trace)
  }
}

/** The ids of the org's resources of `type`, cached on the org until its resources change. */
function resourceIdsOf(org: OrgNode, type: string): readonly Id[] {
  org.resourceIds ??= new Map()
  let ids = org.resourceIds.get(type)
  if (ids === undefined) {
    ids = [...(org.resources.get(type) ?? [])].map((r) => r.id)
    org.resourceIds.set(type, ids)
  }
  return ids
}

/** Adds `scope` (if of `type`) and everything of `type` below it, across sub-orgs too. */
function collectBelow(scope: OrgNode | ResourceNode, type: string, into: Set<OrgNode | ResourceNode>): void {
  if ('chain' in scope) {
    if (type === ORG) into.add(scope)
    else for (const resource of scope.resources.get(type) ?? []) into.add(resource)
    for (const child of scope.children) collectBelow(child, type, into)
    return
  }
  if (scope.type === type) into.add(scope)
  for (const child of scope.children ?? []) collectBelow(child, type, into)
}
