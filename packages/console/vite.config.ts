import react from '@vitejs/plugin-react'
import { defaultClientConditions, defineConfig } from 'vite'

// The server serves dist/ at `/` (packages/server/src/console-static.ts); `npm run dev -w @orgkit/console`
// proxies the API to a running `npm start` for working on the console with hot reload.
export default defineConfig({
  plugins: [react()],
  // The SDK's TypeScript sources, not a dist/ to build first (docs/packages.md).
  resolve: { conditions: ['@orgkit/source', ...defaultClientConditions] },
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 2000 },
  server: { proxy: { '/v1': 'http://127.0.0.1:3000' } },
})
