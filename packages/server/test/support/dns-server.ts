import dns2 from 'dns2'

const { Packet } = dns2
/** RFC 1035 §4.1.1 response codes (dns2's typings lack `Packet.RCODE`). */
const SERVFAIL = 2
const NXDOMAIN = 3

/**
 * A real DNS server on loopback (UDP, dns2) answering TXT records, for what verifies a domain (issue 21.2):
 * point the server at `address` (its `dnsResolver` option, ORGKIT_DNS_RESOLVER). Names it was not given a
 * record for answer NXDOMAIN; `failing(name)` makes a name answer SERVFAIL, `silent(name)` not at all (a
 * timeout).
 */
export interface TestDnsServer {
  /** `127.0.0.1:<port>`. */
  address: string
  /** Sets the name's TXT records (each a string, or its character-strings); `[]`: the name exists, no TXT. */
  setTxt(name: string, records: (string | string[])[]): void
  failing(name: string): void
  silent(name: string): void
  /** How many questions it was asked for this name. */
  asked(name: string): number
  close(): Promise<void>
}

export async function startDnsServer(): Promise<TestDnsServer> {
  const records = new Map<string, (string | string[])[]>()
  const broken = new Map<string, 'servfail' | 'silent'>()
  const questions = new Map<string, number>()
  const key = (name: string) => name.toLowerCase().replace(/\.$/, '')
  const server = dns2.createServer({
    udp: true,
    handle: (request, send) => {
      const response = Packet.createResponseFromRequest(request)
      const [question] = request.questions
      const name = key(question?.name ?? '')
      questions.set(name, (questions.get(name) ?? 0) + 1)
      const failure = broken.get(name)
      if (failure === 'silent') return
      if (failure === 'servfail') response.header.rcode = SERVFAIL
      else if (!records.has(name)) response.header.rcode = NXDOMAIN
      else if (question?.type === Packet.TYPE.TXT)
        for (const data of records.get(name)!)
          response.answers.push(Packet.createResourceFromQuestion(question, { ttl: 1, data }))
      void send(response)
    },
  })
  const addresses = await server.listen({ udp: { port: 0, address: '127.0.0.1' } })
  return {
    address: `127.0.0.1:${addresses.udp!.port}`,
    setTxt: (name, list) => {
      broken.delete(key(name))
      records.set(key(name), list)
    },
    failing: (name) => broken.set(key(name), 'servfail'),
    silent: (name) => broken.set(key(name), 'silent'),
    asked: (name) => questions.get(key(name)) ?? 0,
    close: async () => {
      await server.close()
    },
  }
}
