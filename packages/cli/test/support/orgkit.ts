import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { run } from '../../src/run.ts'

export interface Ran {
  stdout: string
  stderr: string
  /** The exit code: 0 unless the command failed or set one. */
  code: number
}

type Env = Record<string, string | undefined>

/**
 * Runs an `orgkit` command line in this process: the commands the binary runs (src/run.ts), over the test
 * process's environment with `env` on top, its output collected as the process would print it. A spawned
 * binary pays Node's start and the load of the CLI's modules each time (2–9 s a command on a busy 2-core
 * machine); here those modules are already loaded. What only a process shows (exit codes reaching the
 * shell, standard output and error, signals) is tested on `orgkitProcess`.
 */
export async function orgkit(args: string[], env: Env = {}): Promise<Ran> {
  let stdout = ''
  let stderr = ''
  const code = await run(args, {
    env: { ...process.env, ...env },
    out: (line) => (stdout += `${line}\n`),
    err: (line) => (stderr += `${line}\n`),
  })
  return { stdout, stderr, code }
}

const execute = promisify(execFile)
export const bin = join(import.meta.dirname, '../../bin/orgkit.js')

/** Runs the real `orgkit` binary in a process of its own; answers its output and exit code. */
export async function orgkitProcess(args: string[], env: Env = {}): Promise<Ran> {
  try {
    const { stdout, stderr } = await execute(process.execPath, [bin, ...args], {
      env: { ...process.env, ...env },
    })
    return { stdout, stderr, code: 0 }
  } catch (e) {
    const failed = e as { stdout: string; stderr: string; code: number }
    return { stdout: failed.stdout, stderr: failed.stderr, code: failed.code }
  }
}
