import type { Command } from 'commander'
import type { Io } from './io.ts'

/**
 * `orgkit model diff OLD NEW`: what changing the model does to the data a database holds (issue 23.3,
 * docs/models.md): roles removed while still bound, and per permission how many people gain or lose it,
 * computed by the engine over the stored records under both models. Exits 2 when a server started with
 * NEW would refuse (bound roles it lacks that no `removedRoles` entry moves).
 */
export function registerModelDiff(model: Command, io: Io): void {
  model
    .command('diff')
    .argument('<old>', 'the model in force: a model file or a preset’s name')
    .argument('<new>', 'the model to change to')
    .option(
      '--database <url>',
      'a postgres:// URL (default: ORGKIT_DATABASE_URL, else the embedded database in ORGKIT_DATA_DIR)',
    )
    .description('what a model change does to stored bindings and who gains or loses each permission')
    .action(async (from: string, to: string, options: { database?: string }) => {
      const [{ resolveModel }, { modelImpact }, { openStore, migrate, loadSnapshot }] = await Promise.all([
        import('@orgkit/core/files'),
        import('@orgkit/core'),
        import('@orgkit/store'),
      ])
      const url = options.database ?? io.env.ORGKIT_DATABASE_URL
      const store = await openStore(
        url
          ? { url, prepare: io.env.ORGKIT_DATABASE_PREPARE?.trim() !== 'off' }
          : { dataDir: io.env.ORGKIT_DATA_DIR ?? './.orgkit' },
      )
      try {
        await migrate(store.db)
        const { snapshot } = await loadSnapshot(store.db)
        const impact = modelImpact(resolveModel(from), resolveModel(to), snapshot)
        for (const line of describe(impact)) io.out(line)
        if (impact.orphaned.length > 0) io.exit(2)
      } finally {
        await store.close()
      }
    })
}

function describe(impact: import('@orgkit/core').ModelImpact): string[] {
  const lines: string[] = []
  if (impact.orphaned.length > 0) {
    lines.push('roles removed while still bound (a server with the new model refuses to start):')
    for (const o of impact.orphaned)
      lines.push(`  ${o.role}: ${o.bindings} binding(s) in ${o.orgs} org(s) — map it in removedRoles`)
  }
  if (impact.moved.length > 0) {
    lines.push('bindings removedRoles moves at the next start:')
    for (const m of impact.moved) lines.push(`  ${m.role} → ${m.to}: ${m.bindings} binding(s)`)
  }
  for (const c of impact.customRoles)
    lines.push(
      `custom role ${c.key} (org ${c.orgId}) loses ${c.dropped.join(', ')}: the new model lacks them`,
    )
  if (impact.permissions.length > 0) {
    lines.push('permissions whose holders change (people gaining / losing):')
    for (const p of impact.permissions) lines.push(`  ${p.permission}: +${p.gain} -${p.lose}`)
  }
  if (lines.length === 0) lines.push('no change to stored data: everyone keeps exactly what they hold')
  return lines
}
