import { Checkbox, Group, Loader, Text } from '@mantine/core'
import { solveChallenge } from 'altcha-lib/v1'
import { useState } from 'react'
import { errorMessage } from '../api.ts'

interface Challenge {
  algorithm: string
  challenge: string
  salt: string
  signature: string
  maxnumber?: number
}

/**
 * The ALTCHA proof of work the server asks for on invitations, and on sign-in to an account that failed
 * several times lately (GET /v1/captcha): solved here, in the browser, and sent as the base64 JSON payload
 * the server verifies. No third party is involved.
 */
export function Captcha({ onSolved }: { onSolved: (payload: string | null) => void }) {
  const [state, setState] = useState<'idle' | 'solving' | 'done' | 'failed'>('idle')
  const [error, setError] = useState<string | null>(null)
  const solve = async () => {
    setState('solving')
    setError(null)
    try {
      // A plain fetch: the challenge is public, and the SDK's schema leaves its shape open.
      const challenge = (await (await fetch('/v1/captcha')).json()) as Challenge
      const solution = await solveChallenge(
        challenge.challenge,
        challenge.salt,
        challenge.algorithm,
        challenge.maxnumber ?? 1_000_000,
      ).promise
      if (!solution) throw new Error('could not solve the captcha')
      const payload = {
        algorithm: challenge.algorithm,
        challenge: challenge.challenge,
        number: solution.number,
        salt: challenge.salt,
        signature: challenge.signature,
      }
      onSolved(btoa(JSON.stringify(payload)))
      setState('done')
    } catch (e) {
      setError(errorMessage(e))
      setState('failed')
      onSolved(null)
    }
  }
  return (
    <Group gap="xs">
      <Checkbox
        label="I'm not a robot"
        checked={state === 'done'}
        disabled={state === 'solving' || state === 'done'}
        onChange={(event) => event.currentTarget.checked && solve()}
      />
      {state === 'solving' && <Loader size="xs" aria-label="Verifying" />}
      {state === 'done' && (
        <Text size="xs" c="green">
          Verified
        </Text>
      )}
      {error && (
        <Text size="xs" c="red" role="alert">
          {error}
        </Text>
      )}
    </Group>
  )
}
