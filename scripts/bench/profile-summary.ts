/**
 * node dist/scripts/bench/profile-summary.js <a.cpuprofile> [<b.cpuprofile>]
 *
 * Where a broker's CPU went, from the V8 CPU profiles `npm run bench -- --profile DIR` writes:
 * self time by package (node_modules), by part of the broker (src/<folder>), and by function,
 * as shares of the busy time (idle left out). With two profiles (`--compare REF --profile DIR`
 * writes DIR/this and DIR/other), the two side by side: what a change cost, by function.
 * --ops N[,M]: how many operations each profile covers (warm-up included); then the tables are
 * in CPU µs per operation, with the second minus the first, largest differences first.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface Profile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
}

/** Self time (µs) by group and by function, and the busy total. */
function summarise(file: string) {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const nodes = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const groups = new Map<string, number>();
  const functions = new Map<string, number>();
  let busy = 0;
  profile.samples.forEach((id, i) => {
    const frame = nodes.get(id);
    const time = profile.timeDeltas[i] ?? 0;
    if (!frame || frame.functionName === '(idle)') return;
    busy += time;
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(frame.url)?.[1];
    const part = frame.url.includes('/dist/src/')
      ? `src/${frame.url.split('/dist/src/')[1]!.split('/')[0]}`
      : undefined;
    const group = pkg ?? part ?? (frame.url.startsWith('node:') ? frame.url : frame.functionName || '(native)');
    groups.set(group, (groups.get(group) ?? 0) + time);
    const where = frame.url ? ` ${frame.url.split('/').slice(-2).join('/')}:${frame.lineNumber + 1}` : '';
    const name = `${frame.functionName || '(anonymous)'}${where}`;
    functions.set(name, (functions.get(name) ?? 0) + time);
  });
  return { busy, groups, functions };
}

const { values: options, positionals: files } = parseArgs({
  options: { ops: { type: 'string' } },
  allowPositionals: true,
});
if (files.length < 1 || files.length > 2) {
  process.stderr.write('usage: profile-summary [--ops N[,M]] <a.cpuprofile> [<b.cpuprofile>]\n');
  process.exit(2);
}
const summaries = files.map(summarise);
const ops = options.ops?.split(',').map(Number);
if (ops && (ops.length !== files.length || ops.some((n) => !(n > 0)))) {
  process.stderr.write('--ops: one positive count per profile\n');
  process.exit(2);
}
type Summary = ReturnType<typeof summarise>;
const tables = [
  ['by package or part', (s: Summary) => s.groups, 25],
  ['by function', (s: Summary) => s.functions, 40],
] as const;
if (ops) {
  // µs per operation, and where two profiles differ most.
  for (const [title, pick, rows] of tables) {
    const keys = new Set(summaries.flatMap((s) => [...pick(s).keys()]));
    const valuesOf = (key: string) => summaries.map((s, i) => (pick(s).get(key) ?? 0) / ops[i]!);
    const rank = (key: string) => {
      const values = valuesOf(key);
      return values.length === 2 ? Math.abs(values[1]! - values[0]!) : values[0]!;
    };
    const top = [...keys].sort((a, b) => rank(b) - rank(a)).slice(0, rows);
    const busy = summaries.map((s, i) => Math.round(s.busy / ops[i]!));
    process.stdout.write(
      `\nSelf time ${title}, CPU µs per operation (${files.join(' | ')}), busy ${busy.join(' | ')}${busy.length === 2 ? `, difference ${busy[1]! - busy[0]!}` : ''}:\n`,
    );
    for (const key of top) {
      const values = valuesOf(key);
      const difference =
        values.length === 2 ? `${values[1]! - values[0]! >= 0 ? '+' : ''}${(values[1]! - values[0]!).toFixed(0)}` : '';
      process.stdout.write(
        `  ${values.map((v) => v.toFixed(0).padStart(6)).join(' ')} ${difference.padStart(6)}  ${key}\n`,
      );
    }
  }
  process.exit(0);
}
const share = (map: Map<string, number>, key: string, busy: number) =>
  `${((100 * (map.get(key) ?? 0)) / Math.max(1, busy)).toFixed(1)}%`;
for (const [title, pick, rows] of tables) {
  const keys = new Map<string, number>();
  for (const s of summaries) for (const [key, time] of pick(s)) keys.set(key, Math.max(keys.get(key) ?? 0, time));
  const top = [...keys].sort((a, b) => b[1] - a[1]).slice(0, rows);
  process.stdout.write(
    `\nSelf time ${title} (${files.join(' | ')}), busy ${summaries.map((s) => Math.round(s.busy / 1000)).join(' | ')} ms:\n`,
  );
  for (const [key] of top) {
    process.stdout.write(`  ${summaries.map((s) => share(pick(s), key, s.busy).padStart(6)).join(' ')}  ${key}\n`);
  }
}
