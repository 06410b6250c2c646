import { createRequire } from 'node:module'

/**
 * Reading SAML's XML (security/sso/saml.ts): the parser, namespaces, and walking children by namespace and
 * local name, never by prefix (an IdP may pick any prefix).
 *
 * The few DOM members read here. @xmldom/xmldom is loaded without its own types: they declare TypeScript's
 * whole DOM library (`/// <reference lib="dom" />`) for the program, which retypes Node's fetch and friends.
 */
export interface XmlNode {
  nodeType: number
  firstChild: XmlNode | null
  nextSibling: XmlNode | null
  textContent: string | null
}
export interface XmlElement extends XmlNode {
  namespaceURI: string | null
  localName: string
  getAttribute(name: string): string | null
  getElementsByTagNameNS(ns: string, name: string): ArrayLike<XmlElement>
}
export interface XmlDocument {
  documentElement: XmlElement | null
  getElementsByTagNameNS(ns: string, name: string): ArrayLike<XmlElement>
}
type ErrorHandler = (message: string) => void
type Parser = new (options: {
  errorHandler: { warning: ErrorHandler; error: ErrorHandler; fatalError: ErrorHandler }
}) => { parseFromString(xml: string, mimeType: string): XmlDocument }
const requireHere = createRequire(import.meta.url)
/**
 * Loaded on the first SAML answer read, not at every start (~25-40 ms of CPU to load; most instances never
 * read one). Node keeps the module once loaded.
 */
const DOMParser = (): Parser => (requireHere('@xmldom/xmldom') as { DOMParser: Parser }).DOMParser

export const NS = {
  protocol: 'urn:oasis:names:tc:SAML:2.0:protocol',
  assertion: 'urn:oasis:names:tc:SAML:2.0:assertion',
  metadata: 'urn:oasis:names:tc:SAML:2.0:metadata',
  dsig: 'http://www.w3.org/2000/09/xmldsig#',
}

/** XML from outside: no DOCTYPE (SAML never has one; entity tricks start there), errors refused. */
export function parseXml(xml: string): XmlDocument | null {
  if (/<!DOCTYPE/i.test(xml)) return null
  let broken = false
  const refuse = () => {
    broken = true
  }
  const doc = new (DOMParser())({
    errorHandler: { warning: () => {}, error: refuse, fatalError: refuse },
  }).parseFromString(xml, 'text/xml')
  return broken ? null : doc
}

export function children(parent: XmlElement | null | undefined, ns: string, name: string): XmlElement[] {
  if (!parent) return []
  const found: XmlElement[] = []
  for (let node = parent.firstChild; node; node = node.nextSibling) {
    const element = node as XmlElement
    if (node.nodeType === 1 && element.namespaceURI === ns && element.localName === name) found.push(element)
  }
  return found
}

export function child(
  parent: XmlElement | null | undefined,
  ns: string,
  name: string,
): XmlElement | undefined {
  return children(parent, ns, name)[0]
}

export function elements(root: XmlDocument | XmlElement, ns: string, names: string[]): XmlElement[] {
  return names.flatMap((name) => Array.from(root.getElementsByTagNameNS(ns, name)))
}
