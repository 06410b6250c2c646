import { type AddressInfo, createServer, Socket } from 'node:net'

/**
 * A loopback TCP proxy in front of a server, so a test can do to a client's connections what a network
 * does: drop them all (`drop`), stall the event streams open now while everything else flows (`hold` / `release`), or point them at a restarted server
 * (`target`). Nothing is faked above TCP: the client and the server speak real HTTP through it.
 */
export interface TcpProxy {
  url: string
  target(port: number): void
  drop(): void
  hold(): void
  release(): void
  close(): Promise<void>
}

export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  let port = targetPort
  let held = new Set<{ client: Socket; upstream: Socket; streaming: boolean }>()
  const pairs = new Set<{ client: Socket; upstream: Socket; streaming: boolean }>()
  const server = createServer((client) => {
    const upstream = new Socket()
    const pair = { client, upstream, streaming: false }
    pairs.add(pair)
    upstream.connect(port, '127.0.0.1')
    client.pipe(upstream)
    upstream.pipe(client)
    upstream.on('data', (chunk: Buffer) => {
      pair.streaming ||= /content-type: text\/event-stream/i.test(chunk.toString('latin1'))
    })
    const end = () => {
      pairs.delete(pair)
      client.destroy()
      upstream.destroy()
    }
    client.on('error', end).on('close', end)
    upstream.on('error', end).on('close', end)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    target: (next) => {
      port = next
    },
    drop: () => {
      for (const { client, upstream } of pairs) {
        client.destroy()
        upstream.destroy()
      }
      pairs.clear()
    },
    hold: () => {
      held = new Set([...pairs].filter((pair) => pair.streaming))
      for (const { client, upstream } of held) upstream.unpipe(client)
    },
    release: () => {
      for (const { client, upstream } of held) upstream.pipe(client)
      held = new Set()
    },
    close: async () => {
      for (const { client, upstream } of pairs) {
        client.destroy()
        upstream.destroy()
      }
      await new Promise((resolve) => server.close(resolve))
    },
  }
}
