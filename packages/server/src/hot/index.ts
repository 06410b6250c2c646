/**
 * The hot path: the authorization API (`/v1/check`, `/v1/check/batch`, `/v1/list-resources`,
 * `/v1/list-principals`, `/v1/explain`), from the socket to the decision. The host product calls it on
 * every request of its own, so what it costs is added to every one of the product's requests
 * (docs/performance.md). Everything here keeps one invariant:
 *
 * **A question is answered from memory, by the same rules and in the same shape as the app would answer
 * it, and nothing is written on the way.**
 *
 * - One decider per request (deciders.ts): this instance's engine; or, only when the client asks for a
 *   revision the engine has not reached within `REPLICA_WAIT_MS`, the database — read, never written,
 *   in one snapshot holding that revision, by the SQL evaluator (the engine's rules in SQL, held to the
 *   engine's answers by the store's property tests). Explanations and who-may lists wait for the engine.
 * - No side effect but usage metering, which only counts in memory: the engine decider is given the usage
 *   meter once, as an observer (billing/usage-meter.ts), and the meter flushes on its own timer.
 * - Per check, nothing allocated by the engine or the meter, no clock read, no await: the engine's check
 *   returns shared decisions, a count is an array increment, the day a count is booked to is read once
 *   per request, and a batch is decided in one synchronous loop.
 * - The framework is skipped, not the steps: listener.ts runs the app's steps in the app's order (request
 *   id, body limit, caller, JSON, the route's own zod schema, `run`, problem+json), with a quick yes for
 *   valid bodies that returns exactly what zod would (zod-fast-path.ts) and a parser for large bodies that
 *   returns exactly what `JSON.parse` would (json-body.ts). test/hot-path.test.ts asks both the same
 *   questions and compares status, content type and body.
 *
 * So what may not come here: a database write, a query per check, a cache shared beyond one server
 * (caches live on the context), work per check that grows with the data, or an answer the app would give
 * differently. One write comes before the questions, in `resolveCaller`: a host token's person unknown so
 * far is made just in time, once per person (services/external-users.ts, issue 20). The route table itself (schemas, OpenAPI) is routes/check.ts; the app registers the same
 * routes, which answer whatever the hot path leaves to it.
 */
export type { Answer, Decider, DecisionObserver, Question } from './decider.ts'
export { Deciders, REPLICA_WAIT_MS } from './deciders.ts'
export { type HotRoute, hotPath } from './listener.ts'
