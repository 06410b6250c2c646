import '@mantine/core/styles.css'
import '@mantine/notifications/styles.css'
import { MantineProvider } from '@mantine/core'
import { ModalsProvider } from '@mantine/modals'
import { Notifications } from '@mantine/notifications'
import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { App } from './App.tsx'
import { PageLoading } from './router.tsx'
import { SessionProvider } from './session.tsx'
import { cssVariablesResolver, theme } from './theme.ts'

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <MantineProvider theme={theme} cssVariablesResolver={cssVariablesResolver} defaultColorScheme="light">
      <ModalsProvider>
        <Notifications position="top-right" />
        <SessionProvider>
          <PageLoading>
            <App />
          </PageLoading>
        </SessionProvider>
      </ModalsProvider>
    </MantineProvider>
  </StrictMode>,
)
