import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * This package on this machine: where it lives (for prisma/migrations and dist/, whether run
 * from src/ or dist/src/), and a free loopback port (the embedded database, the demo, the
 * benchmark and the tests).
 */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

/** The broker's version, from its package.json (the OpenAPI document's `info.version`). */
export function brokerVersion(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

/** Ports handed out below the kernel's ephemeral range (32768–60999 on Linux by default). */
const PORT_RANGE = { first: 20_000, last: 32_000 };
const CLAIMS_DIR = join(tmpdir(), 'sso-broker-ports');
const claimed = new Set<number>();

/**
 * A loopback port for a server that must know its port before it listens (a PostgreSQL, a
 * broker or IdP whose public URL names it), reserved against every other process on this
 * machine that asks here — test files run in parallel, and a port handed out by one and bound
 * a moment later must not be taken meanwhile. So: a port below the kernel's ephemeral range
 * (no outgoing connection picks it as its source port), claimed by an atomic rename of a directory naming
 * this process (a claim whose process is gone is taken over), free when tried, and released
 * when this process exits. Servers that need not know their port first listen on port 0.
 */
export async function freePort(): Promise<number> {
  try {
    mkdirSync(CLAIMS_DIR, { recursive: true });
  } catch {
    // No writable temporary directory: a port the system picks, unreserved.
    return systemPort();
  }
  const span = PORT_RANGE.last - PORT_RANGE.first;
  const start = Math.floor(Math.random() * span);
  for (let i = 0; i < span; i++) {
    const port = PORT_RANGE.first + ((start + i) % span);
    if (claimed.has(port) || !claim(port)) continue;
    if (await canListen(port)) return port;
  }
  throw new Error('no free port to hand out');
}

/**
 * Claims a port: a directory holding this process's id, made elsewhere and renamed into place
 * (atomic: a claim is never seen without its owner, and the rename fails when one exists). A
 * claim whose process is gone is first renamed away, which only one process can do.
 */
function claim(port: number): boolean {
  const dir = join(CLAIMS_DIR, String(port));
  const mine = `${dir}.${process.pid}.new`;
  try {
    mkdirSync(mine, { recursive: true });
    writeFileSync(join(mine, 'pid'), String(process.pid));
  } catch {
    return false;
  }
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      renameSync(mine, dir);
      if (claimed.size === 0) process.once('exit', releaseClaims);
      claimed.add(port);
      return true;
    } catch {
      const owner = Number.parseInt(readOwner(dir), 10);
      if (!Number.isInteger(owner) || isAlive(owner) || !takeOver(dir)) break;
    }
  }
  rmSync(mine, { recursive: true, force: true });
  return false;
}

/** Moves a dead process's claim out of the way; false when another process got there first. */
function takeOver(dir: string): boolean {
  const stale = `${dir}.stale-${process.pid}`;
  try {
    renameSync(dir, stale);
  } catch {
    return false;
  }
  rmSync(stale, { recursive: true, force: true });
  return true;
}

function readOwner(dir: string): string {
  try {
    return readFileSync(join(dir, 'pid'), 'utf8');
  } catch {
    return '';
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function releaseClaims(): void {
  for (const port of claimed) rmSync(join(CLAIMS_DIR, String(port)), { recursive: true, force: true });
}

function systemPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** Whether a server can listen on 127.0.0.1:port now (nothing outside these claims holds it). */
function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
