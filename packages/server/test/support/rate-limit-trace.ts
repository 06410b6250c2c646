import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'

/**
 * Which operations can answer RATE_LIMITED, read from the source rather than listed by hand: every
 * function from which a `new OrgkitError('RATE_LIMITED', …)` is reachable through calls (the type checker
 * resolves each name, across modules and namespace imports), followed up to the operations, so a rate
 * limit added to any use case or repository shows up here without anyone remembering this test.
 *
 * An operation is an object literal with a string `operationId`: `createRoute({ operationId, … })` inside
 * `app.openapi(…, handler)` enters through the handler; any other (the authorization routes' table)
 * through its function-valued properties (`run: check.check`). A middleware given to `app.use` that can
 * answer it makes every operation able to. Sound enough for this code base, not in general: a call
 * through an interface is followed to every method of that name, a function passed around as a value
 * only where it is named.
 */
export interface RateLimitTrace {
  /** operationId → one call chain that ends in RATE_LIMITED. */
  operations: Map<string, string[]>
  /** Call chains from middleware (every operation answers through it). */
  middleware: string[][]
}

const packages = fileURLToPath(new URL('../../../', import.meta.url))
const ROOTS = ['server/src', 'store/src'].map((dir) => join(packages, dir))

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts'))
    .map((e) => join(e.parentPath, e.name))
}

type Fn = ts.FunctionLikeDeclaration

export function traceRateLimits(): RateLimitTrace {
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    allowImportingTsExtensions: true,
    noEmit: true,
    strict: true,
    skipLibCheck: true,
    types: [],
    lib: ['lib.es2023.d.ts'],
  }
  // Only our own sources are read: every other module (Node's, the libraries', the other packages') is an
  // empty one, whose names the checker resolves to nothing at once instead of typing Kysely's, zod's and
  // Hono's generics (issue 25.6: 13 s of CPU -> 5 s here, the same trace). A call chain reaches our code
  // only through our own names, so none is lost; a value typed by a library's generics is not followed.
  const host = ts.createCompilerHost(options)
  const read = host.getSourceFile
  host.getSourceFile = (fileName, language, ...rest) =>
    ROOTS.some((root) => fileName.startsWith(root)) || fileName.includes('/typescript/lib/lib.')
      ? read.call(host, fileName, language, ...rest)
      : ts.createSourceFile(fileName, 'export {}', language)
  const program = ts.createProgram(ROOTS.flatMap(sourceFiles), options, host)
  const checker = program.getTypeChecker()
  const ours = (node: ts.Node) => ROOTS.some((root) => node.getSourceFile().fileName.startsWith(root))
  const files = program.getSourceFiles().filter(ours)

  // Methods by name, for calls through an interface (ctx.store.rateLimits.hit(…) → every `hit`).
  const methods = new Map<string, Fn[]>()
  const visitAll = (node: ts.Node, f: (n: ts.Node) => void) => {
    f(node)
    ts.forEachChild(node, (child) => visitAll(child, f))
  }
  for (const file of files) {
    visitAll(file, (node) => {
      const fn = asFunction(node)
      if (!fn || !(ts.isMethodDeclaration(node) || ts.isPropertyAssignment(node))) return
      const name = node.name.getText()
      methods.set(name, [...(methods.get(name) ?? []), fn])
    })
  }

  /** The body a declaration stands for: a function, or the function a variable is made by. */
  function targets(decl: ts.Declaration): Fn[] {
    if (!ours(decl)) return []
    if (ts.isMethodSignature(decl) || ts.isPropertySignature(decl))
      return methods.get(decl.name.getText()) ?? []
    const fn = asFunction(decl)
    if (fn) return [fn]
    if (ts.isVariableDeclaration(decl) && decl.initializer && ts.isCallExpression(decl.initializer)) {
      return callees(decl.initializer.expression)
    }
    if (ts.isShorthandPropertyAssignment(decl)) {
      const value = checker.getShorthandAssignmentValueSymbol(decl)
      return value?.declarations?.flatMap(targets) ?? []
    }
    return []
  }
  /**
   * A member of what a library hands in or builds: of a call's result (Kysely, zod, Hono builders), or of
   * an unannotated parameter of a callback given to a method (Hono's `c`, Kysely's `eb`, an array's item).
   * Their generic types cost seconds to resolve and lead nowhere in this source. A callback given to one
   * of our functions (`write(…, async (work) => …)`) is followed.
   */
  function isLibraryMember(node: ts.Identifier): boolean {
    if (!ts.isPropertyAccessExpression(node.parent) || node.parent.name !== node) return false
    let root: ts.Expression = node.parent.expression
    for (;;) {
      if (
        ts.isPropertyAccessExpression(root) ||
        ts.isNonNullExpression(root) ||
        ts.isParenthesizedExpression(root)
      )
        root = root.expression
      else if (ts.isAwaitExpression(root)) root = root.expression
      else break
    }
    if (ts.isCallExpression(root) || ts.isElementAccessExpression(root)) return true
    if (!ts.isIdentifier(root)) return false
    const declaration = checker.getSymbolAtLocation(root)?.valueDeclaration
    if (!declaration || !ts.isParameter(declaration) || declaration.type) return false
    const call = declaration.parent.parent
    return ts.isCallExpression(call) && !ts.isIdentifier(call.expression)
  }
  function callees(expression: ts.Node): Fn[] {
    let symbol = checker.getSymbolAtLocation(
      ts.isPropertyAccessExpression(expression) ? expression.name : expression,
    )
    if (symbol && symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol)
    return symbol?.declarations?.flatMap(targets) ?? []
  }

  // A function's chain to RATE_LIMITED, or null; computed once each (a cycle in progress counts as none).
  const memo = new Map<Fn, string[] | null>()
  function chain(fn: Fn): string[] | null {
    const known = memo.get(fn)
    if (known !== undefined) return known
    memo.set(fn, null)
    let found: string[] | null = null
    const visit = (node: ts.Node): void => {
      if (found) return
      if (
        ts.isNewExpression(node) &&
        node.expression.getText() === 'OrgkitError' &&
        node.arguments?.[0] &&
        ts.isStringLiteral(node.arguments[0]) &&
        node.arguments[0].text === 'RATE_LIMITED'
      ) {
        found = ['RATE_LIMITED']
        return
      }
      // Types call nothing; and a member of a call's result is a builder's (Kysely, zod, Hono), whose
      // generic types cost seconds to resolve and lead nowhere in this source.
      if (ts.isTypeNode(node)) return
      if (ts.isIdentifier(node) && !isDeclarationName(node) && !isLibraryMember(node)) {
        for (const target of callees(node)) {
          if (target === fn) continue
          const rest = chain(target)
          if (rest) {
            found = [nameOf(target), ...rest]
            return
          }
        }
      }
      ts.forEachChild(node, visit)
    }
    if (fn.body) visit(fn.body)
    memo.set(fn, found)
    return found
  }

  const operations = new Map<string, string[]>()
  const middleware: string[][] = []
  for (const file of files) {
    visitAll(file, (node) => {
      if (ts.isObjectLiteralExpression(node)) {
        const id = node.properties.find(
          (p): p is ts.PropertyAssignment =>
            ts.isPropertyAssignment(p) &&
            p.name.getText() === 'operationId' &&
            ts.isStringLiteral(p.initializer),
        )
        if (!id) return
        const operationId = (id.initializer as ts.StringLiteral).text
        const entries = entriesOf(node)
        for (const entry of entries) {
          const found = chain(entry)
          if (found && !operations.has(operationId)) operations.set(operationId, found)
        }
      }
      if (isCallOf(node, 'use')) {
        for (const arg of node.arguments) {
          const fns = asFunction(arg) ? [asFunction(arg)!] : ts.isIdentifier(arg) ? callees(arg) : []
          for (const fn of fns) {
            const found = chain(fn)
            if (found) middleware.push(found)
          }
        }
      }
    })
  }
  return { operations, middleware }

  /** Where an operation's object literal is entered: its `app.openapi` handler, or its function values. */
  function entriesOf(literal: ts.ObjectLiteralExpression): Fn[] {
    const route = literal.parent
    if (ts.isCallExpression(route) && route.expression.getText() === 'createRoute') {
      const call = route.parent
      if (ts.isCallExpression(call) && isCallOf(call, 'openapi') && call.arguments[0] === route) {
        return call.arguments.slice(1).flatMap((arg) => (asFunction(arg) ? [asFunction(arg)!] : callees(arg)))
      }
    }
    return literal.properties.flatMap((p) => {
      if (ts.isPropertyAssignment(p))
        return asFunction(p.initializer) ? [asFunction(p.initializer)!] : callees(p.initializer)
      if (ts.isMethodDeclaration(p)) return [p]
      return []
    })
  }
}

function isCallOf(node: ts.Node, method: string): node is ts.CallExpression {
  return (
    ts.isCallExpression(node) &&
    ts.isPropertyAccessExpression(node.expression) &&
    node.expression.name.text === method
  )
}

/** The function a node is, or holds as its value (`const f = () => …`, `{ f: () => … }`). */
function asFunction(node: ts.Node): Fn | null {
  if (
    ts.isFunctionDeclaration(node) ||
    ts.isMethodDeclaration(node) ||
    ts.isArrowFunction(node) ||
    ts.isFunctionExpression(node)
  ) {
    return node.body ? node : null
  }
  if ((ts.isVariableDeclaration(node) || ts.isPropertyAssignment(node)) && node.initializer) {
    const value = node.initializer
    return ts.isArrowFunction(value) || ts.isFunctionExpression(value) ? value : null
  }
  return null
}

function isDeclarationName(node: ts.Identifier): boolean {
  const parent = node.parent
  return (
    (ts.isFunctionDeclaration(parent) ||
      ts.isVariableDeclaration(parent) ||
      ts.isParameter(parent) ||
      ts.isMethodDeclaration(parent) ||
      ts.isPropertyAssignment(parent)) &&
    parent.name === node
  )
}

function nameOf(fn: Fn): string {
  const file = fn.getSourceFile().fileName.replace(packages, '')
  const named =
    fn.name?.getText() ??
    (ts.isVariableDeclaration(fn.parent) || ts.isPropertyAssignment(fn.parent)
      ? fn.parent.name.getText()
      : null)
  return `${named ?? 'λ'} (${file}:${fn.getSourceFile().getLineAndCharacterOfPosition(fn.getStart()).line + 1})`
}
