import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, packageRoot } from '../../src/config/local.js';
import { waitUntilReady } from './wait.js';

const MAIN = join(packageRoot(), 'dist/src/main.js');

export interface Replicas {
  /** Each replica's PUBLIC_URL (its own port on 127.0.0.1). */
  urls: string[];
  /** Starts replica `i` (again, after a kill) and waits until /readyz answers (20 s at most). */
  start(i: number): Promise<boolean>;
  /** SIGKILL: the replica dies mid-whatever, as a crashed process does. */
  kill(i: number): void;
}

/**
 * `count` broker processes (the compiled main.js, as production runs it) on one database, each
 * with `env` plus its own PORT and PUBLIC_URL, for fault tests; every one is SIGKILLed at teardown.
 */
export async function brokerReplicas(
  t: { teardown(fn: () => unknown): void },
  env: Record<string, string>,
  count = 2,
): Promise<Replicas> {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build (npm test does)`);
  const ports = await Promise.all(Array.from({ length: count }, () => freePort()));
  const urls = ports.map((port) => `http://127.0.0.1:${port}`);
  const processes: ChildProcess[] = [];
  t.teardown(() => processes.forEach((child) => child.kill('SIGKILL')));
  return {
    urls,
    async start(i) {
      processes[i] = spawn(process.execPath, [MAIN], {
        env: { PATH: process.env.PATH ?? '', ...env, PORT: String(ports[i]), PUBLIC_URL: urls[i]! },
        stdio: 'ignore',
      });
      return waitUntilReady(urls[i]!, 20_000);
    },
    kill: (i) => void processes[i]?.kill('SIGKILL'),
  };
}
