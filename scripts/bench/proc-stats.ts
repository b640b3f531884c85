import { readFileSync, readdirSync } from 'node:fs';

/**
 * CPU time and memory of other processes, from Linux's /proc (proc(5)). CPU is in clock ticks
 * of 10 ms (USER_HZ = 100), precise enough over the thousands of logins a phase runs.
 */
const TICK_US = 10_000;

interface Stat {
  ppid: number;
  /** user + system time of the process itself, µs */
  selfUs: number;
  /** user + system time of its children it has waited for (exited backends), µs */
  childrenUs: number;
}

function readStat(pid: number): Stat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may hold spaces: split after it.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const n = (i: number) => Number(fields[i - 3]);
  return { ppid: n(4), selfUs: (n(14) + n(15)) * TICK_US, childrenUs: (n(16) + n(17)) * TICK_US };
}

/** CPU time of one process so far, µs. */
export function processCpuUs(pid: number): number {
  return readStat(pid)?.selfUs ?? 0;
}

/**
 * CPU time of a process tree so far (PostgreSQL: the postmaster, its live backends and
 * helpers, and every child it has reaped), µs.
 */
export function treeCpuUs(rootPid: number): number {
  const root = readStat(rootPid);
  if (!root) return 0;
  let total = root.selfUs + root.childrenUs;
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === rootPid) continue;
    const stat = readStat(pid);
    if (stat?.ppid === rootPid) total += stat.selfUs;
  }
  return total;
}

/** Resident memory now and at its peak (VmRSS, VmHWM), MiB. */
export function memoryMiB(pid: number): { rss: number; peak: number } {
  let text = '';
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return { rss: 0, peak: 0 };
  }
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0);
  return { rss: kib('VmRSS') / 1024, peak: kib('VmHWM') / 1024 };
}
