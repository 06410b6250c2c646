import { randomBytes } from 'node:crypto'
import { linkSync, readFileSync, renameSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'

/** The file in an embedded data folder that says which process has it open. */
export const LOCK_FILE = 'orgkit.lock'

/** A lock its holder has not touched for this long is free, whoever it names (a host gone, a pid reused). */
export const LOCK_STALE_MS = 10_000
/** How often a holder touches its lock. */
const BEAT_MS = 2_500

/** The locks this process holds, by path: a lock naming this pid that is not here is a former process's. */
const held = new Set<string>()

/** This boot of this machine (Linux), so a pid is compared only with the processes of the boot that wrote it. */
const BOOT = (() => {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()
  } catch {
    return ''
  }
})()

/**
 * Takes the embedded data folder for this process, or throws saying who holds it. PGlite is one PostgreSQL
 * running inside its process, with no postmaster.pid of its own: two processes opening one folder each
 * answered writes the other never saw, and the folder kept only one's (a second `npm start` on the same
 * `ORGKIT_DATA_DIR` lost the first's users).
 *
 * The lock is `orgkit.lock` in the folder: the holder's pid, host, boot and a nonce, made whole in a file of
 * its own and hard-linked into place (the link fails if a lock is there: never an empty or half-written
 * lock), and touched every few seconds while held. A lock is free when its holder is gone: written on this
 * host in this boot, when its pid no longer runs (or is this pid, not held here: a container restarted as
 * pid 1), however long ago it was touched (a start busy for seconds keeps it); written elsewhere or before
 * a reboot (a recreated container, a shared disk), when no one has touched it for LOCK_STALE_MS. A free
 * lock is moved aside under a name of its own, which one process alone can do, and taken only if what was
 * moved is the lock seen free.
 * The returned function releases it (the store calls it when PGlite closes).
 */
export function lockDataFolder(folder: string): () => void {
  const path = join(folder, LOCK_FILE)
  const mine = `${process.pid}\n${hostname()}\n${BOOT}\n${randomBytes(8).toString('hex')}\n`
  for (let attempt = 0; attempt < 5; attempt++) {
    if (created(path, mine)) return holding(path, mine)
    const holder = heldBy(path)
    if (holder === null) continue // released meanwhile: try again
    if (!free(path, holder)) throw inUse(folder, holder)
    moveAside(path, holder.text)
  }
  throw inUse(folder, heldBy(path) ?? { pid: null, host: null, boot: '', text: '', touched: Date.now() })
}

/** Makes the lock with `content`, whole, unless one is there. */
function created(path: string, content: string): boolean {
  const draft = `${path}.${randomBytes(6).toString('hex')}`
  writeFileSync(draft, content, { mode: 0o600 })
  try {
    linkSync(draft, path)
    return true
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw error
  } finally {
    unlinkSync(draft)
  }
}

/** Held from now: touched until released; released once, and only while it is still this lock. */
function holding(path: string, mine: string): () => void {
  held.add(path)
  const ours = () => {
    try {
      return readFileSync(path, 'utf8') === mine
    } catch {
      return false
    }
  }
  const beat = setInterval(() => {
    if (!ours()) return clearInterval(beat) // taken over after all (this process stalled past the limit)
    const now = new Date()
    try {
      utimesSync(path, now, now)
    } catch {}
  }, BEAT_MS)
  beat.unref()
  let released = false
  return () => {
    if (released) return
    released = true
    clearInterval(beat)
    held.delete(path)
    // Ours only: a folder someone emptied, or a lock another process took over, is left alone.
    if (ours())
      try {
        unlinkSync(path)
      } catch {}
  }
}

interface Holder {
  pid: number | null
  host: string | null
  boot: string
  /** The lock's whole text: what a takeover checks it moved. */
  text: string
  /** When its holder last touched it (ms). */
  touched: number
}

/** The lock there now, or null when there is none. */
function heldBy(path: string): Holder | null {
  try {
    const text = readFileSync(path, 'utf8')
    const touched = statSync(path).mtimeMs
    const [pidText, host, boot] = text.split('\n')
    const pid = /^[0-9]+$/.test(pidText ?? '') ? Number(pidText) : null
    return { pid, host: host || null, boot: boot ?? '', text, touched }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw error
  }
}

function free(path: string, holder: Holder): boolean {
  const here = holder.pid !== null && holder.host === hostname() && BOOT !== '' && holder.boot === BOOT
  if (!here) return Date.now() - holder.touched > LOCK_STALE_MS
  return holder.pid === process.pid ? !held.has(path) : !running(holder.pid!)
}

/**
 * Moves a free lock out of the way, as one process alone can (a rename): taken only if what was moved is the
 * lock seen free; a live lock moved by mistake (made between the look and the move) is put back.
 */
function moveAside(path: string, seen: string): void {
  const aside = `${path}.free-${randomBytes(6).toString('hex')}`
  try {
    renameSync(path, aside)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return // another process moved it first
    throw error
  }
  try {
    if (readFileSync(aside, 'utf8') !== seen)
      try {
        linkSync(aside, path)
      } catch {}
  } finally {
    unlinkSync(aside)
  }
}

/**
 * Whether a process with this pid exists on this machine. Exported for the tests' global setup, which
 * clears what dead runs left in /dev/shm.
 */
export function running(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function inUse(folder: string, holder: Holder): Error {
  const who =
    holder.pid === process.pid && holder.host === hostname()
      ? 'this process'
      : holder.pid === null
        ? 'another process'
        : `process ${holder.pid}${holder.host && holder.host !== hostname() ? ` on ${holder.host}` : ''}`
  return Object.assign(
    new Error(
      `the data folder ${folder} is in use by ${who}: stop that Orgkit first, or give this one another ORGKIT_DATA_DIR` +
        ` (a lock from another machine or boot is free once no one has touched it for ${LOCK_STALE_MS / 1000} s)`,
    ),
    { code: 'DATA_FOLDER_IN_USE' },
  )
}
