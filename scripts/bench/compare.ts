/**
 * npm run bench -- --compare <git ref> [--rounds N] [bench options…]
 *
 * The benchmark of this checkout against another commit, on this machine, in one go: the other
 * commit is checked out in a temporary git worktree (sharing this checkout's node_modules) and
 * built, then the two benches run alternately — this, that, this, that… — so that both see the
 * same machine, noise and all. Bench options (--method, --concurrency, --logins-only, --quick,
 * --env, --reference-log) are passed to both; --profile DIR writes each side's CPU profiles to
 * DIR/this and DIR/other. Prints, per phase, each side's broker and
 * PostgreSQL CPU per operation (the mean over rounds, and each round) and the ratio, then each
 * side's operations per second and p50 and p99 latency (this / that).
 *
 * The other commit's bench must know the options given (older commits lack some).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { packageRoot } from '../../src/config/local.js';

interface Phase {
  phase: string;
  method: string;
  concurrency: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  cpuUsPerOp: { broker: number; postgres: number };
}

const log = (line: string) => process.stderr.write(`${line}\n`);

/** One side's options: `--profile DIR` becomes DIR/this or DIR/other, so the two profiles stay apart. */
export function sideArgs(args: readonly string[], side: 'this' | 'other'): string[] {
  return args.flatMap((arg, i) => {
    if (arg.startsWith('--profile=')) return [`${arg}/${side}`];
    return args[i - 1] === '--profile' ? [join(arg, side)] : [arg];
  });
}

/** Runs the bench of this checkout and of `ref` alternately, `rounds` times each, with `benchArgs`. */
export async function compare(ref: string, rounds: number, benchArgs: string[]): Promise<void> {
  const root = packageRoot();
  const work = await mkdtemp(join(tmpdir(), 'bench-compare-'));
  const other = join(work, 'other');
  const git = (...args: string[]) => execFileSync('git', args, { cwd: root, encoding: 'utf8' }).trim();
  const sides = [
    { name: `this checkout (${git('rev-parse', '--short', 'HEAD')})`, dir: root },
    { name: `${ref} (${git('rev-parse', '--short', ref)})`, dir: other },
  ];
  try {
    log(`checking out ${ref} in ${other} and building it…`);
    git('worktree', 'add', '--detach', other, ref);
    await symlink(join(root, 'node_modules'), join(other, 'node_modules'));
    for (const side of sides) {
      const built = spawnSync('npm', ['run', '-s', 'build'], { cwd: side.dir, stdio: 'inherit' });
      if (built.status !== 0) throw new Error(`${side.name}: the build failed`);
      if (!existsSync(join(side.dir, 'dist/scripts/bench/run.js'))) throw new Error(`${side.name} has no bench`);
    }
    const results: Phase[][][] = sides.map(() => []);
    for (let round = 1; round <= rounds; round++) {
      for (const [i, side] of sides.entries()) {
        const out = join(work, `round-${round}-${i}.json`);
        log(`round ${round}/${rounds}: ${side.name}…`);
        const run = spawnSync(
          process.execPath,
          [
            join(side.dir, 'dist/scripts/bench/run.js'),
            ...sideArgs(benchArgs, i === 0 ? 'this' : 'other'),
            '--out',
            out,
          ],
          {
            cwd: side.dir,
            stdio: ['ignore', 'ignore', 'inherit'],
          },
        );
        if (run.status !== 0) throw new Error(`${side.name}: the bench failed (round ${round})`);
        results[i]!.push((JSON.parse(await readFile(out, 'utf8')) as { results: Phase[] }).results);
      }
    }
    const key = (p: Phase) => `${p.phase} ${p.method} c=${p.concurrency}`;
    const mean = (xs: number[]) => Math.round(xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length));
    const lines = [
      `Alternating ${rounds} round(s) each, this machine; CPU µs per operation (mean, then each round):`,
      '',
      `| phase | ${sides[0]!.name} broker | PostgreSQL | ${sides[1]!.name} broker | PostgreSQL | broker ratio | broker + PostgreSQL ratio | ops/s | p50 ms | p99 ms |`,
      '|---|---|---|---|---|---|---|---|---|---|',
    ];
    for (const phase of results[0]![0] ?? []) {
      const of = (i: number) =>
        results[i]!.map((run) => run.find((p) => key(p) === key(phase))).filter((p) => p !== undefined);
      const [mine, theirs] = [of(0), of(1)];
      if (theirs.length === 0) continue;
      const cell = (ps: Phase[], pick: (p: Phase) => number) => `${mean(ps.map(pick))} (${ps.map(pick).join(', ')})`;
      const broker = (ps: Phase[]) => mean(ps.map((p) => p.cpuUsPerOp.broker));
      const total = (ps: Phase[]) => mean(ps.map((p) => p.cpuUsPerOp.broker + p.cpuUsPerOp.postgres));
      // Throughput and latency, this / that (means over rounds).
      const both = (pick: (p: Phase) => number) => {
        const avg = (ps: Phase[]) => +(ps.reduce((sum, p) => sum + pick(p), 0) / ps.length).toFixed(2);
        return `${avg(mine)} / ${avg(theirs)}`;
      };
      lines.push(
        `| ${key(phase)} | ${cell(mine, (p) => p.cpuUsPerOp.broker)} | ${cell(mine, (p) => p.cpuUsPerOp.postgres)} | ` +
          `${cell(theirs, (p) => p.cpuUsPerOp.broker)} | ${cell(theirs, (p) => p.cpuUsPerOp.postgres)} | ` +
          `${(broker(mine) / broker(theirs)).toFixed(2)}× | ${(total(mine) / total(theirs)).toFixed(2)}× | ` +
          `${both((p) => p.perSecond)} | ${both((p) => p.p50Ms)} | ${both((p) => p.p99Ms)} |`,
      );
    }
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    try {
      git('worktree', 'remove', '--force', other);
    } catch {
      // Already gone.
    }
    await rm(work, { recursive: true, force: true });
  }
  log(`(the other side ran from ${resolve(other)}, now removed)`);
}
