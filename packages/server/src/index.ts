/** The server as a library: what the `orgkit` command (packages/cli) and embedding hosts start. */
export { type Config, loadConfig } from './config.ts'
export { changeFeedMac, rotateChangeFeed } from './security/change-feed-mac.ts'
export { engineStateMac, rotateEngineState } from './security/engine-state-mac.ts'
export { SecretBox } from './security/secret-box.ts'
export { loadKeyring, rotateSecrets } from './security/secrets-at-rest.ts'
export { type RunningServer, type ServerOptions, startServer } from './server.ts'
export { startTracing, type Tracing } from './tracing.ts'
