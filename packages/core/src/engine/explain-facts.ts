import type { BindingTable } from './bindings.ts'
import type { Id, PrincipalRef, Reason, Subject, Target } from './data.ts'
import type { TraceFact } from './evaluate.ts'
import type { GroupMemberNode, Principal, UserNode } from './nodes.ts'

// What `explain` and `reach` hand out: the decision walk's trace (evaluate.ts) as plain data, ids instead
// of graph nodes, for the API, the console and the SQL evaluator's differential test.

/** A fact of an explanation, as plain data. */
export type ExplainFact =
  | { kind: 'policy'; orgId: Id; rule: 'mfa' | 'password'; policyId?: string }
  | { kind: 'key'; keyId: Id; rule: 'revoked' | 'expired' | 'orgs' | 'resources' | 'permissions' }
  | { kind: 'override'; resourceId: Id; principal: PrincipalRef; effect: 'allow' | 'deny' }
  | {
      kind: 'binding'
      bindingId: Id
      principal: PrincipalRef
      /** For a group's binding: the user it reaches. */
      forUser?: Id
      /** The key the binding names, and the role it resolved to (differs for team bindings). */
      roleKey: string
      role: string | null
      scope: Target
      status: 'grants' | 'counted' | 'expired' | 'replaced' | 'not_member' | 'unresolved'
    }

export interface Explanation {
  allowed: boolean
  reason: Reason
  subject: Subject
  permission: string
  target: Target
  /** The fact that decided; null when nothing granted (`no_grant`) or something was not found. */
  decidedBy: ExplainFact | null
  /** Everything the walk looked at, in order. */
  facts: ExplainFact[]
}

function principalRef(principal: Principal): PrincipalRef {
  return { type: principal.isGroup ? 'group' : 'user', id: principal.id }
}

function overridePrincipal(user: UserNode, member: GroupMemberNode | null): PrincipalRef {
  return member === null ? { type: 'user', id: user.id } : { type: 'group', id: member.group.id }
}

export function toExplainFact(bindings: BindingTable, fact: TraceFact): ExplainFact {
  switch (fact.kind) {
    case 'policy':
      return fact.policyId === undefined
        ? { kind: 'policy', orgId: fact.org.id, rule: fact.rule }
        : { kind: 'policy', orgId: fact.org.id, rule: fact.rule, policyId: fact.policyId }
    case 'key':
      return { kind: 'key', keyId: fact.key.id, rule: fact.rule }
    case 'override':
      return {
        kind: 'override',
        resourceId: fact.resource.id,
        principal: overridePrincipal(fact.user, fact.member),
        effect: fact.effect,
      }
    case 'binding': {
      const b = fact.binding
      const scope = bindings.scope[b]!
      const out: ExplainFact = {
        kind: 'binding',
        bindingId: bindings.idOf(b),
        principal: principalRef(bindings.principal[b]!),
        roleKey: bindings.roleKey(b),
        role: fact.role?.key ?? null,
        scope: { type: scope.type, id: scope.id },
        status: fact.status,
      }
      if (fact.member !== null) out.forUser = fact.member.user.id
      return out
    }
  }
}
