/**
 * Start-up time (of `node dist/index.js`, what npm start runs) and idle memory on the embedded database, beside their
 * baseline in the same run: a bare Node process that opens PGlite (same data
 * folder kind) and answers /healthz. Target (DESIGN §12): ready < 4 s, idle
 * memory < 200 MB. Run: npm run bench:startup
 *
 * "PGlite alone" opens PGlite with the bot's shared buffers (16 MB; PGlite's
 * default 128 MB idles ~140 MB higher) and, for a new folder, runs initdb as
 * PGlite does; the bot copies the migrated template npm ci made instead.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGLITE_SHARED_BUFFERS } from '../src/db/client.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const root = new URL('..', import.meta.url).pathname;

/** The same bare server on PostgreSQL (postgres.js), for the memory of the PostgreSQL configuration. */
const pgBaselineSource = `
const { default: postgres } = await import('postgres');
const http = await import('node:http');
const sql = postgres(process.env.DATABASE_URL, { max: 10 });
await sql\`select 1\`;
http.createServer(async (q, r) => { await sql\`select 1\`; r.end('{"status":"ok"}'); }).listen(Number(process.env.PORT), '127.0.0.1');
`;

const baselineSource = `
const { PGlite } = await import('@electric-sql/pglite');
const http = await import('node:http');
const pg = await PGlite.create(process.env.DIR, { startParams: [...PGlite.defaultStartParams, '-c', 'shared_buffers=' + process.env.SHARED_BUFFERS] });
http.createServer(async (q, r) => { await pg.query('select 1'); r.end('{"status":"ok"}'); }).listen(Number(process.env.PORT), '127.0.0.1');
`;

async function waitHealthy(port: number, child: ChildProcess, started: number): Promise<number> {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`process exited with ${child.exitCode}`);
    try {
      const r = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (r.status === 200) return performance.now() - started;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function measure(label: string, cmd: string[], env: Record<string, string>): Promise<{ ms: number; rss: number }> {
  const port = 4100 + Math.floor(Math.random() * 800);
  const started = performance.now();
  const child = spawn(cmd[0]!, cmd.slice(1), { cwd: root, env: { ...process.env, ...env, PORT: String(port), LOG_LEVEL: 'warn' }, stdio: 'ignore' });
  try {
    const ms = await waitHealthy(port, child, started);
    await new Promise((r) => setTimeout(r, 3000)); // idle
    const rss = rssMb(child.pid!);
    return { ms, rss };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    void label;
  }
}

// What npm ci leaves and npm start runs: the compiled service (built here if a source changed)
// and the migrated PGlite template a new data folder is copied from (src/db/pglite-template.ts).
if (spawnSync(process.execPath, ['scripts/build-if-stale.mjs', '--pglite-template'], { cwd: root, stdio: 'inherit' }).status !== 0) process.exit(1);

const baselineFile = join(root, 'bench', '.startup-baseline.mjs');
writeFileSync(baselineFile, baselineSource);
const rows: Array<{ what: string; ms: number; rss: number }> = [];
try {
  for (let i = 0; i < RUNS; i++) {
    for (const fresh of [true, false]) {
      const dir = mkdtempSync(join(tmpdir(), 'sgd-startup-'));
      try {
        if (!fresh) {
          // Warm: the data folder exists and is migrated.
          await measure('prime', [process.execPath, 'dist/index.js'], { DATA_DIR: dir });
          await measure('prime', [process.execPath, baselineFile], { DIR: join(dir, 'baseline'), SHARED_BUFFERS: PGLITE_SHARED_BUFFERS });
        }
        const bot = await measure('bot', [process.execPath, 'dist/index.js'], { DATA_DIR: dir });
        const base = await measure('baseline', [process.execPath, baselineFile], { DIR: join(dir, 'baseline'), SHARED_BUFFERS: PGLITE_SHARED_BUFFERS });
        rows.push({ what: `bot (${fresh ? 'new data folder' : 'existing data'})`, ...bot }, { what: `PGlite alone (${fresh ? 'new' : 'existing'})`, ...base });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  }
  // The PostgreSQL configuration (when a server is reachable): the embedded database's WASM heap is not in these figures.
  const admin = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const { default: postgres } = await import('postgres');
  const a = postgres(admin, { max: 1, onnotice: () => {} });
  const name = `sgd_startup_${process.pid}`;
  try {
    await a.unsafe(`create database ${name}`);
    const url = new URL(admin);
    url.pathname = `/${name}`;
    const pgBaselineFile = join(root, 'bench', '.startup-baseline-pg.mjs');
    writeFileSync(pgBaselineFile, pgBaselineSource);
    try {
      await measure('prime', [process.execPath, 'dist/index.js'], { DATABASE_URL: url.toString() });
      for (let i = 0; i < RUNS; i++) {
        rows.push({ what: 'bot on PostgreSQL', ...(await measure('bot', [process.execPath, 'dist/index.js'], { DATABASE_URL: url.toString() })) });
        rows.push({ what: 'postgres.js server alone', ...(await measure('baseline', [process.execPath, pgBaselineFile], { DATABASE_URL: url.toString() })) });
      }
    } finally {
      rmSync(pgBaselineFile, { force: true });
    }
  } catch (err) {
    console.log(`(PostgreSQL figures skipped: ${(err as Error).message})`);
  } finally {
    await a.unsafe(`drop database if exists ${name} with (force)`).catch(() => {});
    await a.end();
  }
} finally {
  rmSync(baselineFile, { force: true });
}

const summary = new Map<string, { ms: number[]; rss: number[] }>();
for (const r of rows) {
  const s = summary.get(r.what) ?? { ms: [], rss: [] };
  s.ms.push(r.ms);
  s.rss.push(r.rss);
  summary.set(r.what, s);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(`start-up to /healthz 200 and idle RSS, median of ${RUNS} (load average ${readFileSync('/proc/loadavg', 'utf8').split(' ')[0]})`);
console.log('what                              ready ms   idle RSS MB');
for (const [what, s] of summary) console.log(`${what.padEnd(34)}${median(s.ms).toFixed(0).padStart(8)}   ${median(s.rss).toFixed(0).padStart(8)}`);
for (const kind of ['new', 'existing'] as const) {
  const bot = summary.get(`bot (${kind === 'new' ? 'new data folder' : 'existing data'})`)!;
  const base = summary.get(`PGlite alone (${kind})`)!;
  const verdict = (ok: boolean) => (ok ? 'PASS' : 'MISS');
  console.log(
    `ratio bot / PGlite alone (${kind}): ready ${(median(bot.ms) / median(base.ms)).toFixed(2)}x, memory ${(median(bot.rss) / median(base.rss)).toFixed(2)}x   ` +
      `targets: ready < 4000 ms ${verdict(median(bot.ms) < 4000)}, idle < 200 MB ${verdict(median(bot.rss) < 200)}`,
  );
}
const onPg = summary.get('bot on PostgreSQL');
const pgBase = summary.get('postgres.js server alone');
if (onPg && pgBase) console.log(`ratio bot / postgres.js server alone (PostgreSQL): ready ${(median(onPg.ms) / median(pgBase.ms)).toFixed(2)}x, memory ${(median(onPg.rss) / median(pgBase.rss)).toFixed(2)}x`);
