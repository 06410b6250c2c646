import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'

/** The file in an embedded data folder that says which process has it open. */
export const LOCK_FILE = 'orgkit.lock'

/**
 * Takes the embedded data folder for this process, or throws saying who holds it. PGlite is one PostgreSQL
 * running inside its process, with no postmaster.pid of its own: two processes opening one folder each
 * answered writes the other never saw, and the folder kept only one's (a second `npm start` on the same
 * `ORGKIT_DATA_DIR` lost the first's users). The lock is `orgkit.lock` in the folder, made with O_EXCL and
 * holding the pid and host name; one left by a process that is gone (a crash, `kill -9`) is taken over. The
 * returned function releases it (the store calls it when PGlite closes).
 */
export function lockDataFolder(folder: string): () => void {
  const path = join(folder, LOCK_FILE)
  const mine = `${process.pid}\n${hostname()}\n`
  // Twice at most: once, and once more after taking a lock left by a process that is gone.
  for (let attempt = 0; ; attempt++) {
    let fd: number
    try {
      fd = openSync(path, 'wx', 0o600)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw error
      const holder = heldBy(path)
      if (holder.alive) throw inUse(folder, path, holder)
      try {
        unlinkSync(path)
      } catch (unlinkError) {
        // Another process taking over the same stale lock removed it first: try to make ours.
        if ((unlinkError as NodeJS.ErrnoException).code !== 'ENOENT') throw unlinkError
      }
      continue
    }
    try {
      writeSync(fd, mine)
    } finally {
      closeSync(fd)
    }
    let released = false
    return () => {
      if (released) return
      released = true
      // Ours only: a folder someone emptied, or a lock another process took over, is left alone.
      try {
        if (readFileSync(path, 'utf8') === mine) unlinkSync(path)
      } catch {}
    }
  }
}

interface Holder {
  pid: number | null
  host: string | null
  /** Whether the holder may still run: on another host, or unreadable, it is taken to. */
  alive: boolean
}

function heldBy(path: string): Holder {
  let text = ''
  try {
    text = readFileSync(path, 'utf8')
  } catch {}
  const [pidText, host] = text.split('\n')
  const pid = /^[0-9]+$/.test(pidText ?? '') ? Number(pidText) : null
  // A lock being written this instant reads empty: taken to be alive, as one on another machine is.
  if (pid === null || !host || host !== hostname()) return { pid, host: host || null, alive: true }
  return { pid, host, alive: running(pid) }
}

/**
 * Whether a process with this pid exists on this machine (this one included: a second open in one process is
 * refused too). Exported for the tests' global setup, which clears what dead runs left in /dev/shm.
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

function inUse(folder: string, path: string, holder: Holder): Error {
  const who =
    holder.pid === process.pid
      ? 'this process'
      : holder.pid === null
        ? 'another process'
        : `process ${holder.pid}${holder.host && holder.host !== hostname() ? ` on ${holder.host}` : ''}`
  return Object.assign(
    new Error(
      `the data folder ${folder} is in use by ${who}: stop that Orgkit first, or give this one another ORGKIT_DATA_DIR` +
        ` (if nothing has it open, delete ${path})`,
    ),
    { code: 'DATA_FOLDER_IN_USE' },
  )
}
