/**
 * Where a profiled process's CPU went, grouped by package.
 *
 *   node --import tsx bench/cpuprofile-summary.ts <file.cpuprofile> [--from µs] [--to µs] [--turns N] [--top N]
 *
 * --from/--to: monotonic µs (bench/submit.ts prints its measured window when
 * BENCH_CPU_PROF_DIR is set); --turns: divide by this many turns to get ms per turn.
 *
 * "self" charges each sample to the function running; "charged" charges V8
 * builtins and native code (JSON.parse, RegExp, Buffer…) to the nearest
 * JavaScript caller's package, which is what a change in that package saves;
 * "attributed" also charges node core (sockets, streams, http) to the
 * package above it (a socket write to postgres.js); "inclusive" counts a
 * sample for every package on its stack.
 */
import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const args = process.argv.slice(2);
const file = args.find((a) => !a.startsWith('--') && !/^\d+$/.test(a));
if (!file) {
  console.error('usage: cpuprofile-summary <file.cpuprofile> [--from µs] [--to µs] [--turns N] [--top N]');
  process.exit(2);
}
const opt = (name: string): number | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : undefined;
};
const from = opt('from') ?? -Infinity;
const to = opt('to') ?? Infinity;
const turns = opt('turns');
const top = opt('top') ?? 35;

const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map<number, ProfileNode>();
const parent = new Map<number, number>();
for (const n of profile.nodes) byId.set(n.id, n);
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

const SPECIAL = new Set(['(garbage collector)', '(program)', '(idle)', '(root)']);

/** The package (or part of our code, or runtime bucket) a frame belongs to. */
function groupOf(cf: CallFrame): string {
  const url = cf.url;
  if (!url) {
    if (cf.functionName === '(garbage collector)') return 'GC';
    if (cf.functionName === '(program)') return '(program: VM, native, unattributed)';
    if (cf.functionName === '(idle)') return '(idle)';
    if (cf.functionName === '(root)') return '(root)';
    return 'V8 builtins/native';
  }
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  const src = /\/work\/main\/(src|bench|test)\/([^/]+)/.exec(url);
  if (src) return src[1] === 'src' ? `our src/${src[2]!.replace(/\.ts$/, '')}` : `${src[1]}/`;
  if (url.startsWith('node:')) {
    const m = /^node:(?:internal\/)?([^/]+)/.exec(url);
    return `node core (${m?.[1] ?? url})`;
  }
  return url;
}

const isNative = (cf: CallFrame) => !cf.url && !SPECIAL.has(cf.functionName);

/** Builtins shown by name in the self list: JSON.parse shows as "parse" with no url. */
function label(cf: CallFrame): string {
  const where = cf.url ? `${cf.url.replace(/^file:\/\/\/work\/main\//, '').replace(/^.*node_modules\//, '')}:${cf.lineNumber + 1}` : '(native)';
  return `${cf.functionName || '(anonymous)'}  ${where}`;
}

const self = new Map<string, number>();
const charged = new Map<string, number>();
const attributed = new Map<string, number>();
const inclusive = new Map<string, number>();
const selfFn = new Map<string, { us: number; group: string }>();
const inclFn = new Map<string, { us: number; group: string }>();
let total = 0;
let idle = 0;

// Sample i lasts until the next sample (timeDeltas[i + 1]).
let t = profile.startTime;
for (let i = 0; i < profile.samples.length; i++) {
  t += profile.timeDeltas[i] ?? 0;
  if (t < from || t > to) continue;
  const dur = profile.timeDeltas[i + 1] ?? 0;
  if (dur <= 0 || dur > 100_000) continue;
  const leaf = byId.get(profile.samples[i]!)!;
  const g = groupOf(leaf.callFrame);
  total += dur;
  if (g === '(idle)') {
    idle += dur;
    continue;
  }
  self.set(g, (self.get(g) ?? 0) + dur);
  const l = label(leaf.callFrame);
  selfFn.set(l, { us: (selfFn.get(l)?.us ?? 0) + dur, group: g });

  // Charged: natives go to the first JS caller.
  let chargedGroup = g;
  if (isNative(leaf.callFrame)) {
    let p = parent.get(leaf.id);
    while (p !== undefined) {
      const pn = byId.get(p)!;
      if (!isNative(pn.callFrame)) {
        const pg = groupOf(pn.callFrame);
        if (pg !== '(root)') chargedGroup = pg;
        break;
      }
      p = parent.get(p);
    }
  }
  charged.set(chargedGroup, (charged.get(chargedGroup) ?? 0) + dur);

  // Attributed: natives and node core go to the nearest package or our code above them (a socket write to postgres.js).
  let attributedGroup = chargedGroup;
  for (let n: ProfileNode | undefined = leaf; n; n = parent.has(n.id) ? byId.get(parent.get(n.id)!) : undefined) {
    const ng = groupOf(n.callFrame);
    if (ng === '(root)') break;
    if (ng === 'V8 builtins/native' || ng.startsWith('node core')) continue;
    attributedGroup = ng;
    break;
  }
  attributed.set(attributedGroup, (attributed.get(attributedGroup) ?? 0) + dur);

  // Inclusive: once per package and once per function on the stack.
  const seenG = new Set<string>();
  const seenF = new Set<string>();
  for (let n: ProfileNode | undefined = leaf; n; n = parent.has(n.id) ? byId.get(parent.get(n.id)!) : undefined) {
    const ng = groupOf(n.callFrame);
    if (ng === '(root)') break;
    seenG.add(ng);
    if (n.callFrame.url) seenF.add(`${label(n.callFrame)}\u0000${ng}`);
  }
  for (const sg of seenG) inclusive.set(sg, (inclusive.get(sg) ?? 0) + dur);
  for (const sf of seenF) {
    const [k, grp] = sf.split('\u0000') as [string, string];
    inclFn.set(k, { us: (inclFn.get(k)?.us ?? 0) + dur, group: grp });
  }
}

const busy = total - idle;
const ms = (us: number) => (us / 1000).toFixed(0);
const pct = (us: number) => `${((100 * us) / busy).toFixed(1)}%`;
const perTurn = (us: number) => (turns ? (us / 1000 / turns).toFixed(3) : '');

console.log(`${file}`);
console.log(`window: ${(total / 1e6).toFixed(1)} s sampled, busy ${(busy / 1e6).toFixed(2)} s (${((100 * busy) / total).toFixed(0)}% of one core)${turns ? `, ${turns} turns → ${(busy / 1000 / turns).toFixed(3)} ms CPU per turn` : ''}`);

const print = (title: string, m: Map<string, number>) => {
  console.log(`\n${title}`);
  console.log(`${'group'.padEnd(44)} ${'ms'.padStart(7)} ${'%busy'.padStart(7)} ${turns ? 'ms/turn'.padStart(8) : ''}`);
  for (const [k, v] of [...m.entries()].sort((a, b) => b[1] - a[1])) {
    if (v / busy < 0.002) continue;
    console.log(`${k.padEnd(44)} ${ms(v).padStart(7)} ${pct(v).padStart(7)} ${perTurn(v).padStart(8)}`);
  }
};
print('self time by group (each sample to the function running)', self);
print('charged (V8 builtins/native charged to the JS caller’s package)', charged);
print('attributed (V8 builtins and node core charged to the nearest package or our code above them)', attributed);
print('inclusive by group (sample counted for each group on the stack)', inclusive);

console.log(`\ntop ${top} functions by self time`);
for (const [k, v] of [...selfFn.entries()].sort((a, b) => b[1].us - a[1].us).slice(0, top)) {
  console.log(`${pct(v.us).padStart(6)} ${perTurn(v.us).padStart(7)}  [${v.group}] ${k}`);
}
console.log(`\ntop ${top} functions by inclusive time (JS frames)`);
for (const [k, v] of [...inclFn.entries()].sort((a, b) => b[1].us - a[1].us).slice(0, top)) {
  console.log(`${pct(v.us).padStart(6)} ${perTurn(v.us).padStart(7)}  [${v.group}] ${k}`);
}
