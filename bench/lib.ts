/**
 * Pieces every benchmark here uses: child processes (the bot, the baseline)
 * that cannot outlive the run, CPU accounting from /proc, the HTTP client,
 * percentiles and tables. Each benchmark measures its target beside its
 * baseline in one run with these same pieces.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createServer as createHttpServer, request, type Agent } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import postgres from 'postgres';

export const repoRoot = fileURLToPath(new URL('..', import.meta.url));

// ───────────────────────── settings and synthetic data ─────────────────────────

/**
 * A number from the environment, or `dflt` when unset or empty. With `min`,
 * it must be at least `min`; without, it must be above zero.
 */
export function envNumber(name: string, dflt: number, min?: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (min === undefined ? !Number.isFinite(n) || n <= 0 : !Number.isFinite(n) || n < min) {
    throw new Error(min === undefined ? `${name} must be a positive number` : `${name} must be a number ≥ ${min}`);
  }
  return n;
}

/** A SQL string literal, for the data generators' generated SQL (bench values only, never user input). */
export const lit = (s: string): string => `'${s.replace(/'/g, "''")}'`;

/** SQL that picks one of `values` by the integer expression `expr`. */
export const pick = (values: readonly string[], expr: string): string => `(array[${values.map(lit).join(', ')}])[1 + ((${expr}) % ${values.length})]`;

// ───────────────────────── the bare baseline server ─────────────────────────

/**
 * The baseline a benchmark measures the bot beside, run as a child
 * (BENCH_ROLE=baseline): a bare node:http server on PORT that reads and
 * parses the JSON body and hands it to `handle`, which runs its one statement
 * on postgres.js (DATABASE_URL, DATABASE_POOL_SIZE connections) and returns
 * the status to answer. `/healthz` is one `select 1`.
 */
export async function serveBaseline(handle: (sql: postgres.Sql, body: Record<string, unknown>) => Promise<number>): Promise<void> {
  const sql = postgres(process.env.DATABASE_URL!, { max: Number(process.env.DATABASE_POOL_SIZE ?? 10), onnotice: () => {} });
  const server = createHttpServer((req, res) => {
    if (req.url === '/healthz') {
      sql`select 1`.then(
        () => res.writeHead(200).end(),
        () => res.writeHead(503).end(),
      );
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      } catch {
        res.writeHead(400).end();
        return;
      }
      handle(sql, body).then(
        (status) => res.writeHead(status).end(),
        (err: unknown) => {
          console.error(err);
          res.writeHead(500).end();
        },
      );
    });
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(Number(process.env.PORT), '127.0.0.1', resolve));
  const stop = () => {
    server.close();
    server.closeIdleConnections();
    void sql.end({ timeout: 5 }).finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

// ───────────────────────── child processes ─────────────────────────

/** Preloaded into each child: exit when this process goes away, however it goes (the IPC pipe closes). */
export const orphanGuard = 'data:text/javascript,' + encodeURIComponent("process.channel?.unref();process.on('disconnect',()=>process.exit(70));");

export interface Child {
  readonly name: string;
  readonly proc: ChildProcess;
  readonly url: string;
  readonly logFile: string;
  exited: boolean;
}

export const children = new Set<Child>();

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** Environment for a child: ours minus anything that would switch on Bot Framework auth or production mode. */
export function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) if (/^Microsoft|^DIRECTORY_FILE$|^NODE_ENV$|^BENCH_/.test(k)) delete env[k];
  return { ...env, ...extra };
}

export async function startChild(name: string, nodeArgs: string[], script: string, env: Record<string, string>, logDir: string): Promise<Child> {
  const port = await freePort();
  const logFile = join(logDir, `${name}.log`);
  const fd = openSync(logFile, 'a');
  const proc = spawn(process.execPath, [...nodeArgs, '--import', orphanGuard, '--import', 'tsx', script], {
    cwd: repoRoot,
    env: childEnv({ ...env, PORT: String(port) }),
    stdio: ['ignore', fd, fd, 'ipc'],
  });
  closeSync(fd);
  const child: Child = { name, proc, url: `http://127.0.0.1:${port}`, logFile, exited: false };
  children.add(child);
  proc.on('exit', () => {
    child.exited = true;
    children.delete(child);
  });
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exited) throw new Error(`${name} exited during start-up (code ${proc.exitCode}); see ${logFile}:\n${tail(logFile)}`);
    if (Date.now() > deadline) throw new Error(`${name} not ready after 60 s; see ${logFile}`);
    const ok = await fetch(`${child.url}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return child;
    await sleep(100);
  }
}

export function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-20).join('\n');
  } catch {
    return '';
  }
}

export async function stopChild(c: Child): Promise<void> {
  if (c.exited) return;
  const exited = new Promise<void>((resolve) => c.proc.once('exit', () => resolve()));
  c.proc.kill('SIGTERM');
  const timer = setTimeout(() => c.proc.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(timer);
}

// ───────────────────────── CPU accounting (Linux /proc) ─────────────────────────

export let clockTicks = 100;
try {
  clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
} catch {
  /* keep 100 */
}

/** utime+stime of one process, in ms; undefined where /proc is not available. */
export function procCpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / clockTicks;
  } catch {
    return undefined;
  }
}

/**
 * The PostgreSQL processes that work for this run: the backends connected to
 * the bench database (the bot's and the baseline's pools) and the shared WAL
 * writer, checkpointer and background writer. Other sessions' backends on the
 * same server are left out (they show up as "other procs").
 */
export type PgPids = () => Promise<number[]>;

/** CPU ms per pid. */
export function cpuOfPids(pids: readonly number[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const pid of pids) {
    const ms = procCpuMs(pid);
    if (ms !== undefined) out.set(pid, ms);
  }
  return out;
}

/** Whole machine: busy and total jiffies. */
export function machineCpu(): { busy: number; total: number } | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const total = v.reduce((a, b) => a + b, 0);
    const idle = (v[3] ?? 0) + (v[4] ?? 0);
    return { busy: total - idle, total };
  } catch {
    return undefined;
  }
}

export interface CpuSnapshot {
  readonly server?: number | undefined;
  readonly pg: Map<number, number>;
  readonly loadgen: number;
  readonly machine?: { busy: number; total: number } | undefined;
}

export async function cpuSnapshot(serverPid: number | undefined, pgPids: PgPids): Promise<CpuSnapshot> {
  const pids = await pgPids().catch(() => []);
  const u = process.cpuUsage();
  return { server: serverPid ? procCpuMs(serverPid) : undefined, pg: cpuOfPids(pids), loadgen: (u.user + u.system) / 1000, machine: machineCpu() };
}


// ───────────────────────── HTTP client ─────────────────────────

export interface HttpResult {
  readonly status: number;
  readonly text: string;
}

export function post(agent: Agent, port: number, body: string): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/api/messages',
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.setTimeout(60_000, () => req.destroy(new Error('request timed out after 60 s')));
    req.on('error', reject);
    req.end(body);
  });
}

// ───────────────────────── reporting ─────────────────────────

export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

export const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : '–');
export const f2 = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : '–');
export const f3 = (n: number) => (Number.isFinite(n) ? n.toFixed(3) : '–');
export const pad = (s: string, n: number) => s.padStart(n);

export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : pad(c, widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/**
 * Runs a benchmark's main: a SIGINT or SIGTERM runs its cleanup (stop the
 * children, drop the databases) once and exits 130; a failure is printed and
 * sets exit code 1. `cleanup` is read when the signal comes, so main can set it.
 */
export async function runBench(name: string, main: () => Promise<void>, o: { cleanup: () => (() => Promise<void>) | undefined; onSignal: string }): Promise<void> {
  let stopping = false;
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      if (stopping) return;
      stopping = true;
      console.error(`\n${sig}: ${o.onSignal}`);
      void (o.cleanup()?.() ?? Promise.resolve()).finally(() => process.exit(130));
    });
  }
  try {
    await main();
  } catch (err) {
    console.error(`${name} failed:`, err);
    process.exitCode = 1;
  }
}
