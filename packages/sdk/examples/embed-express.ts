/**
 * An existing Express app with Orgkit embedded — the code of docs/embed-express.md, run by
 * test/embed-express.test.ts against a real Orgkit.
 *
 * The app keeps its own sign-in (here a stand-in: `x-session: <its user id>`) and its own user table.
 * Orgkit knows its people by the app's ids (`external:<id>`); the app writes through the API with its
 * platform token acting as the person, and answers every permission question from a replica of the engine
 * in its own process.
 */
import express, { type Request } from 'express'
import { orgkitExpress } from '../src/express.ts'
import { createOrgkitClient, external, must, OrgkitApiError } from '../src/index.ts'
import type { Replica } from '../src/replica.ts'

interface HostUser {
  id: string
  email: string
  name: string
  /** Orgkit's id for them, kept at sign-up: the replica answers by it. */
  orgkitId: string
}

export function createHostApp(options: { orgkitUrl: string; platformToken: string; replica: Replica }) {
  const { orgkitUrl, platformToken, replica } = options
  const users = new Map<string, HostUser>() // the app's own table
  const platform = createOrgkitClient({ baseUrl: orgkitUrl, token: platformToken })
  /** A client acting as one of the app's users, with exactly their rights. */
  const as = (user: HostUser) =>
    createOrgkitClient({ baseUrl: orgkitUrl, token: platformToken, actAs: external(user.id) })
  // The newest revision any write of ours returned: checks are never answered from older state, so a
  // grant is in force on the next request. (Per person would do; one number is simplest.)
  let written = 0
  const wrote = (revision: number) => {
    written = Math.max(written, revision)
  }

  const userOf = (req: Request) => users.get(req.get('x-session') ?? '')
  const requirePermission = orgkitExpress({
    replica,
    callerFrom: (req) => userOf(req)?.orgkitId,
    atLeastRevision: () => written,
  })

  const app = express()
  app.use(express.json())

  // Sign-up, the app's own: the person is provisioned in Orgkit under the app's id for them (an upsert).
  app.post('/signup', async (req, res) => {
    const { id, email, name } = req.body as { id: string; email: string; name: string }
    const user = await must(
      platform.PUT('/v1/users/external/{externalId}', {
        params: { path: { externalId: id } },
        body: { email, name },
      }),
    )
    users.set(id, { id, email, name, orgkitId: user.id })
    res.status(201).json({ id })
  })

  // A team and a project in it: written through the API as the person (Orgkit checks they may).
  app.post('/teams', async (req, res) => {
    const user = userOf(req)
    if (!user) return void res.status(401).end()
    const org = await must(as(user).POST('/v1/orgs', { body: { name: String(req.body.name) } }))
    wrote(org.revision)
    res.status(201).json({ id: org.id })
  })
  app.post('/teams/:teamId/projects', async (req, res) => {
    const user = userOf(req)
    if (!user) return void res.status(401).end()
    const project = await must(
      as(user).POST('/v1/orgs/{orgId}/resources', {
        params: { path: { orgId: req.params.teamId } },
        body: { type: 'app', name: String(req.body.name) },
      }),
    )
    wrote(project.revision)
    res.status(201).json({ id: project.id })
  })
  // Adding someone directly is the platform's to do (people otherwise join by invitation): the app asks
  // Orgkit first whether this person may bring people in, then adds with its platform token.
  app.post(
    '/teams/:teamId/members',
    requirePermission('org.invite_user', (req) => ({ org: String(req.params.teamId) })),
    async (req, res) => {
      const member = users.get(String(req.body.userId))
      if (!member) return void res.status(404).end()
      const added = await must(
        platform.POST('/v1/orgs/{orgId}/members', {
          params: { path: { orgId: String(req.params.teamId) } },
          body: { userId: member.orgkitId, roles: [String(req.body.role)] },
        }),
      )
      wrote(added.revision)
      res.status(201).end()
    },
  )

  // The app's own routes, each behind one permission, answered in memory by the replica.
  const project = (req: Request) => ({ type: 'app', id: String(req.params.projectId) })
  app.get('/projects/:projectId', requirePermission('app.read', project), (req, res) => {
    res.json({ id: req.params.projectId })
  })
  app.post('/projects/:projectId/builds', requirePermission('app.upload_bundle', project), (_req, res) => {
    res.status(201).json({ queued: true })
  })

  // For the app's health page: how far behind Orgkit the replica is.
  app.get('/orgkit/lag', (_req, res) => {
    res.json(replica.lag())
  })

  // An Orgkit problem (a write the person may not make) answers as Orgkit answered it.
  app.use((error: unknown, _req: Request, res: express.Response, next: express.NextFunction) => {
    if (!(error instanceof OrgkitApiError)) return next(error)
    res.status(error.problem.status).type('application/problem+json').send(JSON.stringify(error.problem))
  })
  return app
}
