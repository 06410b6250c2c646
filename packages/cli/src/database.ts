import type { Config } from '@orgkit/server/config'

/** Where the configured database is: a PostgreSQL URL, or the embedded database's data folder. */
export const databaseOf = (
  config: Pick<Config, 'databaseUrl' | 'databasePrepare' | 'dataDir' | 'templateDir'>,
) =>
  config.databaseUrl
    ? { url: config.databaseUrl, prepare: config.databasePrepare }
    : { dataDir: config.dataDir, templateDir: config.templateDir }
