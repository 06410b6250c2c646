import { readFileSync } from 'node:fs'

/**
 * Whether this machine backs what glibc mallocs with 2 MB pages when a process starts with
 * GLIBC_TUNABLES=glibc.malloc.hugetlb=1: Linux, glibc 2.35 or later (which reads that tunable), and transparent
 * huge pages not turned off. What bin/orgkit.js's huge-page start asks of the machine, and its test too.
 */
export function hugePagesOffered() {
  if (process.platform !== 'linux') return false
  try {
    if (/\[never\]/.test(readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8'))) return false
  } catch {
    return false
  }
  process.report.excludeNetwork = true // the version is all this needs; some hosts are slow to list sockets
  const glibc = String(process.report.getReport().header.glibcVersionRuntime ?? '')
  const [major = 0, minor = 0] = glibc.split('.').map(Number)
  return major > 2 || (major === 2 && minor >= 35)
}
