import '@mantine/core/styles.css'
import '@mantine/notifications/styles.css'
import { createTheme, MantineProvider } from '@mantine/core'
import { ModalsProvider } from '@mantine/modals'
import { Notifications } from '@mantine/notifications'
import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { App } from './App.tsx'
import { PageLoading } from './router.tsx'
import { SessionProvider } from './session.tsx'

const theme = createTheme({ primaryColor: 'indigo', defaultRadius: 'md' })

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <MantineProvider theme={theme} defaultColorScheme="light">
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
