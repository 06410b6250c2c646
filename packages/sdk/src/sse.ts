/** One server-sent event (WHATWG HTML, "Server-sent events": the fields a feed uses). */
export interface SseEvent {
  event: string
  data: string
  id: string | undefined
}

/**
 * The events of a `text/event-stream` body, as they arrive. Node 20 has no `EventSource`, and one would
 * hide what a replica needs: its own `Last-Event-ID` on reconnect and the errors of each connection.
 */
export async function* sseEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  const reader = body.getReader()
  const decoder = new TextDecoder()
  let buffer = ''
  let event = ''
  let data: string[] = []
  let id: string | undefined
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) return
      buffer += decoder.decode(value, { stream: true })
      let end = buffer.search(/\r\n|\r|\n/)
      while (end >= 0) {
        const line = buffer.slice(0, end)
        buffer = buffer.slice(buffer[end] === '\r' && buffer[end + 1] === '\n' ? end + 2 : end + 1)
        if (line === '') {
          if (data.length > 0) yield { event: event || 'message', data: data.join('\n'), id }
          event = ''
          data = []
        } else if (!line.startsWith(':')) {
          const colon = line.indexOf(':')
          const field = colon < 0 ? line : line.slice(0, colon)
          const text = colon < 0 ? '' : line.slice(colon + (line[colon + 1] === ' ' ? 2 : 1))
          if (field === 'event') event = text
          else if (field === 'data') data.push(text)
          else if (field === 'id' && !text.includes('\0')) id = text
        }
        end = buffer.search(/\r\n|\r|\n/)
      }
    }
  } finally {
    await reader.cancel().catch(() => {})
  }
}
