import { run } from './run.ts'

const code = await run(process.argv.slice(2), {
  env: process.env,
  out: (line) => console.log(line),
  err: (line) => console.error(line),
})
// A command that failed may still hold a connection: it ends here. One that succeeded ends when its work is
// done (`start` keeps serving).
if (code !== 0) process.exit(code)
