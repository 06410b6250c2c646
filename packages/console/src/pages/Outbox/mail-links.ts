/**
 * A URL in a mail's text, ending before the punctuation of the sentence around it: "sign in at
 * http://host/login, then…" links `http://host/login`, not `…/login,` (a new user's outbox links 404ed).
 */
const LINK = /(https?:\/\/[^\s]*[^\s.,;:!?)\]'"])/g

/** The mail's text cut into plain text and links, in order (`url` set on the links). */
export function mailParts(text: string): { text: string; url?: string }[] {
  return text
    .split(LINK)
    .map((part, i) => (i % 2 === 1 ? { text: part, url: part } : { text: part }))
    .filter((part) => part.text !== '')
}
