import type { Server, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'

/**
 * How to close `server` without waiting on its clients: `server.close()` alone waits for every socket to
 * go, and two kinds never do on their own. A socket a browser opened ahead (a preconnect) that has sent no
 * request counts as active to Node until its headers time out, and `close()` stops the timer that would
 * time it out: a console tab left open held a stop for ever. A keep-alive socket whose request was in flight
 * at the close stays open for `keepAliveTimeout` (65 s) after its answer.
 *
 * So a close ends every socket that carries no answer at once, lets each answer in flight finish (with
 * `Connection: close` where its headers are not yet sent) and then ends its socket, and past `graceMs`
 * ends whatever is left.
 */
export function closeWhenAnswered(server: Server, graceMs = 10_000): () => Promise<void> {
  const answering = new Map<Socket, Set<ServerResponse>>()
  let closing = false
  const end = (socket: Socket) => socket.end(() => socket.destroy())
  /**
   * `Connection: close` on the socket's last answer only, where its headers are not yet sent: on an earlier
   * one Node ends the socket after it, and a pipelined request behind it, already handed to the app (a
   * write done), would go unanswered. A request arriving later moves it there.
   */
  const marked = new WeakSet<ServerResponse>()
  const closeAfterLast = (answers: Set<ServerResponse>) => {
    const last = [...answers].at(-1)
    for (const res of answers)
      if (res !== last && marked.has(res) && !res.headersSent) {
        res.removeHeader('connection')
        marked.delete(res)
      }
    if (last && !last.headersSent) {
      last.setHeader('connection', 'close')
      marked.add(last)
    }
  }
  server.on('connection', (socket: Socket) => {
    answering.set(socket, new Set())
    socket.once('close', () => answering.delete(socket))
  })
  server.on('request', (req, res: ServerResponse) => {
    const socket = req.socket
    const answers = answering.get(socket)
    if (!answers) return
    answers.add(res)
    if (closing) closeAfterLast(answers)
    res.once('close', () => {
      answers.delete(res)
      if (closing && answers.size === 0) end(socket)
    })
  })
  return () =>
    new Promise<void>((resolve, reject) => {
      closing = true
      const late = setTimeout(() => server.closeAllConnections(), graceMs)
      late.unref()
      server.close((error) => {
        clearTimeout(late)
        if (error) reject(error)
        else resolve()
      })
      for (const [socket, answers] of answering) {
        if (answers.size === 0) end(socket)
        else closeAfterLast(answers)
      }
    })
}
