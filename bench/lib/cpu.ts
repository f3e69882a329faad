import { readFile } from 'node:fs/promises'
import type pg from 'pg'

// CPU time per process from /proc (Linux), so a run can say where the cores went: the server
// under test, its PostgreSQL backends, the load generator, and whatever else the machine ran.
// Wall-clock rates on a shared machine mix all of these; CPU seconds per request do not.

/** clock ticks per second of /proc/<pid>/stat's utime and stime (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100

/** User + system CPU seconds of one process (all its threads); null once it has gone. */
export async function processCpuSeconds (pid: number): Promise<number | null> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
    // The command name (field 2) may hold spaces: count fields from the closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND
  } catch {
    return null
  }
}

/** Busy CPU seconds of the whole machine (every core), from /proc/stat. */
export async function machineBusySeconds (): Promise<number> {
  const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0] ?? ''
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number)
  return ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) / TICKS_PER_SECOND
}

/** Resident memory of a process in MB, from /proc/<pid>/status; null once it has gone. */
export async function residentMb (pid: number): Promise<number | null> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8')
    const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1]
    return kb === undefined ? null : Math.round(Number(kb) / 1024)
  } catch {
    return null
  }
}

/** Server processes of PostgreSQL serving one database for one application_name (a client's pool). */
export async function postgresBackendPids (admin: pg.Pool, database: string, applicationName: string): Promise<number[]> {
  const { rows } = await admin.query<{ pid: number }>(
    'SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name = $2', [database, applicationName])
  return rows.map((row) => row.pid)
}

/** Processes whose CPU a load run accounts for, by name (`node`, `postgres`, …), listed when asked. */
export type CpuAccounts = Record<string, () => Promise<number[]>>

/** CPU seconds each account used between start() and stop(); processes born in between count whole. */
export async function startCpuAccounting (accounts: CpuAccounts): Promise<{ stop (): Promise<Record<string, number>> }> {
  const sample = async (pids: number[]) => new Map(await Promise.all(pids.map(async (pid) => [pid, await processCpuSeconds(pid)] as const)))
  const before = new Map(await Promise.all(Object.entries(accounts).map(async ([name, list]) => [name, await sample(await list())] as const)))
  return {
    async stop () {
      const used: Record<string, number> = {}
      for (const [name, list] of Object.entries(accounts)) {
        const now = await sample(await list())
        let seconds = 0
        for (const [pid, cpu] of now) seconds += (cpu ?? 0) - (before.get(name)?.get(pid) ?? 0)
        used[name] = Math.round(seconds * 100) / 100
      }
      return used
    }
  }
}
