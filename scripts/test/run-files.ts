import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Parser, type Result } from 'tap-parser';

/*
 * Runs compiled tap test files, `jobs` at a time, each as a plain `node` process, and reports
 * like tap's runner: one line per file, a failed file's whole output, and the totals.
 *
 * Why not `tap`'s runner: on Node 20 it loads @tapjs/processinfo into every test process and
 * every Node process a test spawns, an off-thread module loader that cost 1.0–1.2 s of CPU per
 * process here (`node --import=…/processinfo/import.mjs` importing the app and oidc-provider:
 * 2.0 s of CPU against 0.95 s without), about 100 s of CPU a run. The files still use tap's
 * API, and `npx tap <file>` still runs any of them.
 */

const running = new Set<ReturnType<typeof spawn>>();

/** Passes a signal on to the files still running (Ctrl-C, or CI stopping the run). */
export function stopFiles(signal: NodeJS.Signals): void {
  for (const child of running) child.kill(signal);
}

export interface Totals {
  total: number;
  pass: number;
  fail: number;
  skip: number;
  todo: number;
  failedFiles: string[];
}

export function findTestFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.test.js'))
    .map((name) => join(dir, name))
    .sort();
}

export async function runFiles(
  files: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; jobs: number; timeoutSeconds: number; verbose: boolean },
): Promise<Totals> {
  const totals: Totals = { total: 0, pass: 0, fail: 0, skip: 0, todo: 0, failedFiles: [] };
  const queue = files.map((file, index) => ({ file, index: index + 1 }));
  const out = (text: string) => process.stdout.write(text);
  out(`TAP version 14\n`);
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const name = relative(options.cwd, next.file);
      const result = await runFile(next.file, options);
      const ok = result.ok && result.counts.fail === 0;
      for (const key of ['total', 'pass', 'fail', 'skip', 'todo'] as const) totals[key] += result.counts[key];
      if (!ok) {
        totals.failedFiles.push(name);
        if (result.counts.fail === 0) totals.fail += 1; // the process failed outside any assertion
      }
      if (!ok || options.verbose) out(indent(`# Subtest: ${name}\n${result.output}`));
      out(
        `${ok ? 'ok' : 'not ok'} ${next.index} - ${name} # time=${result.ms}ms${result.why ? ` (${result.why})` : ''}\n`,
      );
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.jobs) }, worker));
  out(`1..${files.length}\n`);
  return totals;
}

interface FileResult {
  ok: boolean;
  why?: string;
  ms: number;
  output: string;
  counts: Omit<Totals, 'failedFiles'>;
}

function runFile(
  file: string,
  options: { cwd: string; env: NodeJS.ProcessEnv; timeoutSeconds: number },
): Promise<FileResult> {
  const started = performance.now();
  const counts = { total: 0, pass: 0, fail: 0, skip: 0, todo: 0 };
  const parser = new Parser();
  tally(parser, counts);
  let output = '';
  const child = spawn(process.execPath, ['--enable-source-maps', file], {
    cwd: options.cwd,
    env: { ...options.env, TAP_TIMEOUT: String(options.timeoutSeconds) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
    parser.write(chunk);
  });
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  // tap ends a file at TAP_TIMEOUT itself; this is for a process that no longer answers at all.
  const kill = setTimeout(() => child.kill('SIGKILL'), (options.timeoutSeconds + 30) * 1000);
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      running.delete(child);
      clearTimeout(kill);
      parser.end();
      const why = signal ? `killed by ${signal}` : code !== 0 ? `exit code ${code}` : undefined;
      resolve({ ok: !why, why, ms: Math.round(performance.now() - started), output, counts });
    });
  });
}

/** Every assertion, in the file and in its subtests at any depth (as tap's own totals count). */
function tally(parser: Parser, counts: Omit<Totals, 'failedFiles'>): void {
  parser.on('assert', (result: Result) => {
    counts.total += 1;
    if (result.todo) counts.todo += 1;
    else if (result.skip) counts.skip += 1;
    else if (result.ok) counts.pass += 1;
    else counts.fail += 1;
  });
  parser.on('child', (child: Parser) => tally(child, counts));
}

const indent = (text: string) =>
  text
    .split('\n')
    .map((line) => (line ? `    ${line}` : line))
    .join('\n') + '\n';
