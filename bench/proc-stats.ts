import { readFile, readdir, readlink } from 'node:fs/promises';
import { BenchSetupError } from './support.js';

/**
 * CPU and memory of another process, from Linux's /proc (the benches compare a worker process with the stack's
 * Kafka Connect JVM, which `process.cpuUsage()` cannot see).
 */

/**
 * CPU time (user + system) a process has used so far, in milliseconds: all its threads, or only thread `tid` (the
 * main thread's tid is the pid).
 */
export async function cpuMs(pid: number, tid?: number): Promise<number> {
  const file = tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`;
  const stat = await readFile(file, 'utf8').catch(() => {
    throw new BenchSetupError(`cannot read ${file}: the process is gone, or this is not Linux`);
  });
  // The command name (field 2) may contain spaces: count fields after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
  return (ticks * 1000) / CLOCK_TICKS;
}

/** CPU time (ms) of each of a process's threads so far, summed by thread name (Node names its own: node, V8 workers). */
export async function cpuMsByThreadName(pid: number): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const tid of await readdir(`/proc/${pid}/task`).catch(() => [] as string[])) {
    const stat = await readFile(`/proc/${pid}/task/${tid}/stat`, 'utf8').catch(() => '');
    if (stat === '') continue;
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ms = ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
    out.set(name, (out.get(name) ?? 0) + ms);
  }
  return out;
}

/** USER_HZ: 100 on every Linux the project runs on (getconf CLK_TCK). */
const CLOCK_TICKS = 100;

/** Resident set size now and its peak since the process started (VmRSS, VmHWM), in MB. */
export async function rssMb(pid: number): Promise<{ rss: number; peak: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: Math.round(kb('VmRSS') / 1024), peak: Math.round(kb('VmHWM') / 1024) };
}

/** The pids whose command line contains `needle` (e.g. Connect's main class). */
export async function pidsWithCommandLine(needle: string): Promise<number[]> {
  const out: number[] = [];
  for (const entry of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry)) continue;
    const cmd = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmd.includes(needle)) out.push(Number(entry));
  }
  return out;
}

/** The pid (among `candidates`) that holds the socket listening on TCP `port`, from /proc/net/tcp{,6}. */
export async function pidListeningOn(port: number, candidates: readonly number[]): Promise<number | null> {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = await readFile(table, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // local_address is HEXIP:HEXPORT; state 0A is LISTEN; field 10 is the socket's inode.
      if (f.length > 9 && f[3] === '0A' && parseInt(f[1]!.split(':')[1]!, 16) === port) inodes.add(f[9]!);
    }
  }
  for (const pid of candidates) {
    const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
    for (const fd of fds) {
      const link = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
      const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1];
      if (inode && inodes.has(inode)) return pid;
    }
  }
  return null;
}
