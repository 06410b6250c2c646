import { describe, expect, it } from 'vitest'
import { again } from '../src/services/context.ts'

const failure = (code: string) => Object.assign(new Error(code), { code })

/** Runs `again` over a run that fails with these codes in turn, then succeeds: how it ended, and each run's `ends`. */
async function runs(codes: string[]): Promise<{ outcome: string; ends: boolean[] }> {
  const ends: boolean[] = []
  const outcome = await again(async (end) => {
    ends.push(end)
    const code = codes[ends.length - 1]
    if (code) throw failure(code)
    return 'done'
  }).catch((error: { code: string }) => `failed ${error.code}`)
  return { outcome, ends }
}

/**
 * A write runs again when PostgreSQL ended it to break a deadlock (40P01, three runs in all), and once the long
 * way when its last audit append found it had more to do (OKL01): that run is not a deadlock's, and does not
 * take one of the deadlock's runs.
 */
describe("a write's runs (services/context.ts, again)", () => {
  it('runs three times through deadlocks, and fails with the third', async () => {
    expect(await runs(['40P01', '40P01'])).toEqual({ outcome: 'done', ends: [true, true, true] })
    expect(await runs(['40P01', '40P01', '40P01'])).toMatchObject({ outcome: 'failed 40P01' })
  })

  it('runs once more the long way after its last statement found more to do, deadlocks still three runs', async () => {
    expect(await runs(['OKL01'])).toEqual({ outcome: 'done', ends: [true, false] })
    expect(await runs(['OKL01', '40P01', '40P01'])).toEqual({
      outcome: 'done',
      ends: [true, false, false, false],
    })
    expect(await runs(['40P01', 'OKL01', '40P01'])).toEqual({
      outcome: 'done',
      ends: [true, true, false, false],
    })
    expect(await runs(['OKL01', '40P01', '40P01', '40P01'])).toMatchObject({ outcome: 'failed 40P01' })
  })

  it('never runs the long way twice: a second OKL01 (it cannot come without `ends`) is an error', async () => {
    expect(await runs(['OKL01', 'OKL01'])).toEqual({ outcome: 'failed OKL01', ends: [true, false] })
  })

  it('fails at once with any other error', async () => {
    expect(await runs(['23505'])).toEqual({ outcome: 'failed 23505', ends: [true] })
  })
})
