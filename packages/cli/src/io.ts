/**
 * What a command reads and writes besides its arguments: the environment its settings come from and its
 * output, one line at a time. The `orgkit` binary passes the process's own (cli.ts); tests run commands
 * inside the test process with one of their own (`run` in run.ts).
 */
export interface Io {
  env: Record<string, string | undefined>
  out(line: string): void
  err(line: string): void
  /** Sets the exit code the command ends with (a denied check exits 3, like `test` answering false). */
  exit(code: number): void
}
