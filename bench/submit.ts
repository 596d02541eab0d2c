/**
 * Whole referrals through the full stack, against a bare node:http handler
 * that parses the JSON and does one INSERT, in one run (DESIGN.md §12).
 *
 *   node --import tsx bench/submit.ts          (npm run bench:submit)
 *
 * Processes:
 * - this one, the load generator: N simulated Teams users over node:http with
 *   a keep-alive Agent, and the fake Bot Connector the bot POSTs its `refer`
 *   replies to (it only pulls the draftId off the card and answers 200);
 * - the bot: `node --import tsx src/index.ts`, a child process on a fresh
 *   PostgreSQL database created for the run and dropped at the end;
 * - the baseline: this file again as a child (BENCH_ROLE=baseline), a bare
 *   node:http server that parses the body and INSERTs one row (postgres.js,
 *   same database, same pool size).
 *
 * Each user (a distinct aadObjectId not in the directory) loops whole
 * referrals exactly as Teams posts them: the `refer` message, `wizard.next`
 * invokes for danger, aboutYou, aboutPerson, concern, consent, then
 * `wizard.submit`: 7 requests. The baseline gets the same 7 bodies from the
 * same client code. Each referral has its own answers (names, date of birth,
 * what was seen). Warm-up is excluded; a request counts if it completes
 * inside the measured window.
 *
 * Environment (all optional):
 *   BENCH_DATABASE_URL  admin URL (default postgres://postgres@127.0.0.1:5432/postgres)
 *   BENCH_USERS         concurrency levels, comma separated (default 20,100)
 *   BENCH_WARMUP_S      warm-up seconds per run (default 10)
 *   BENCH_MEASURE_S     measured seconds per run (default 20)
 *   BENCH_POOL_SIZE     postgres.js pool of the bot and of the baseline (default 2 × cores + 1,
 *                       PostgreSQL's sizing rule for a local server: 5 here; the service's own
 *                       default of 10 convoys submits on the audit and counter locks, p99 ×4)
 *   BENCH_TARGETS       baseline,bot (default both; ratios need both)
 *   BENCH_CPU_PROF_DIR  run the bot child with --cpu-prof into this folder
 *   BENCH_LOG_DIR       where the children's stdout/stderr go (default a new folder in /tmp)
 *
 * CPU columns (Linux /proc, measured window): the server child, the Postgres
 * backends of the bench database plus the WAL writer and checkpointer, this
 * process, and "other procs": whatever else ran on the machine meanwhile
 * (above 0.2 cores the figures are low and a warning is printed).
 *
 * Profiling the bot: BENCH_CPU_PROF_DIR=/tmp/sgd-prof BENCH_TARGETS=bot BENCH_USERS=20
 * prints the measured window in monotonic µs; then
 *   node --import tsx bench/cpuprofile-summary.ts /tmp/sgd-prof/CPU.*.0.001.cpuprofile --from A --to B --turns N
 *
 * Children are stopped on exit, error, SIGINT and SIGTERM, and exit by
 * themselves if this process dies; only a SIGKILL of this process leaves the
 * sgd_bench_* database behind.
 */
import { createServer, Agent, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import postgres from 'postgres';
import { validAnswers, wizardSteps } from '../test/harness/referral.js';
import { envNumber, serveBaseline, runBench, children, startChild, tail, stopChild, clockTicks, cpuSnapshot, post, percentile, f1, f2, f3, table, type PgPids, type CpuSnapshot, type HttpResult } from './lib.js';

const thisFile = fileURLToPath(import.meta.url);

// ───────────────────────── baseline server (child role) ─────────────────────────

/** The bare handler: one INSERT of the activity's id, type and sender. */
const runBaselineServer = () =>
  serveBaseline(async (sql, a) => {
    const from = a.from as { aadObjectId?: unknown } | undefined;
    await sql`insert into bench_baseline (activity_id, type, user_id) values (${String(a.id)}, ${String(a.type)}, ${String(from?.aadObjectId)})`;
    return 200;
  });

// ───────────────────────── settings ─────────────────────────

interface Settings {
  readonly adminUrl: string;
  readonly levels: number[];
  readonly warmupS: number;
  readonly measureS: number;
  readonly poolSize: number;
  readonly targets: Array<'baseline' | 'bot'>;
  readonly cpuProfDir?: string | undefined;
  readonly logDir: string;
}

function settings(): Settings {
  const num = (name: string, dflt: number) => envNumber(name, dflt);
  const levels = (process.env.BENCH_USERS ?? '20,100').split(',').map((s) => Number(s.trim()));
  if (levels.some((n) => !Number.isInteger(n) || n < 1)) throw new Error('BENCH_USERS must be positive integers, comma separated');
  const targets = (process.env.BENCH_TARGETS ?? 'baseline,bot').split(',').map((s) => s.trim());
  for (const t of targets) if (t !== 'baseline' && t !== 'bot') throw new Error(`BENCH_TARGETS: unknown target ${t}`);
  const logDir = process.env.BENCH_LOG_DIR ?? mkdtempSync(join(tmpdir(), 'sgd-bench-'));
  mkdirSync(logDir, { recursive: true });
  return {
    adminUrl: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    levels,
    warmupS: num('BENCH_WARMUP_S', 10),
    measureS: num('BENCH_MEASURE_S', 20),
    poolSize: num('BENCH_POOL_SIZE', 2 * cpus().length + 1),
    targets: targets as Array<'baseline' | 'bot'>,
    cpuProfDir: process.env.BENCH_CPU_PROF_DIR || undefined,
    logDir,
  };
}

// Child processes, CPU accounting, the HTTP client and the report tables: bench/lib.ts.

/** Postgres CPU between two snapshots; a backend that appeared meanwhile counts from its start. */
function pgCpuDelta(a: CpuSnapshot, b: CpuSnapshot): number | undefined {
  if (b.pg.size === 0) return undefined;
  let total = 0;
  for (const [pid, ms] of b.pg) total += ms - (a.pg.get(pid) ?? 0);
  return total;
}

// ───────────────────────── the fake Bot Connector (in this process) ─────────────────────────

/** Receives the bot's replies to `refer` and keeps, per conversation, the draftId on the card's Next button. */
class LeanConnector {
  private server: Server | undefined;
  private counter = 0;
  readonly cards = new Map<string, { draftId: string; activityId: string }>();
  posts = 0;
  unexpected = 0;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.posts += 1;
        const m = /^\/v3\/conversations\/([^/]+)\/activities(?:\/[^/?]+)?/.exec(req.url ?? '');
        if (!m || req.method !== 'POST') {
          this.unexpected += 1;
          res.writeHead(404).end();
          return;
        }
        const id = `sent-${++this.counter}`;
        try {
          const draftId = findDraftId(JSON.parse(Buffer.concat(chunks).toString('utf8')));
          if (draftId) this.cards.set(decodeURIComponent(m[1]!), { draftId, activityId: id });
          else this.unexpected += 1;
        } catch {
          this.unexpected += 1;
        }
        const body = JSON.stringify({ id });
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
      });
    });
    this.server.keepAliveTimeout = 65_000;
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }
}

/** The draftId on the card's `wizard.next` button (an Action.Execute's data). */
function findDraftId(node: unknown): string | undefined {
  if (Array.isArray(node)) {
    for (const n of node) {
      const found = findDraftId(n);
      if (found) return found;
    }
    return undefined;
  }
  if (!node || typeof node !== 'object') return undefined;
  const o = node as Record<string, unknown>;
  const data = o.data as Record<string, unknown> | undefined;
  if (o.type === 'Action.Execute' && o.verb === 'wizard.next' && typeof data?.draftId === 'string') return data.draftId;
  for (const v of Object.values(o)) {
    const found = findDraftId(v);
    if (found) return found;
  }
  return undefined;
}

// ───────────────────────── the client ─────────────────────────

const TENANT = '11111111-2222-3333-4444-555555555555';
const BOT_ID = '28:safeguard-desk-bot';
/**
 * Each referral's answers differ (names, date of birth, what was seen), as
 * real ones do, so that nothing keyed on the answers (a cache, the
 * database's own) is flattered by every user sending the same referral.
 */
const FIRST = ['Jordan', 'Sam', 'Alex', 'Riley', 'Casey', 'Morgan', 'Taylor', 'Jamie', 'Robin', 'Charlie', 'Avery', 'Quinn', 'Rowan'];
const LAST = ['Smith', 'Jones', 'Taylor', 'Brown', 'Williams', 'Wilson', 'Evans', 'Thomas', 'Roberts', 'Walker', 'Wright', 'Hughes'];
let referralSeq = 0;
function answersFor(): ReturnType<typeof validAnswers> {
  const n = referralSeq++;
  const dob = new Date(Date.UTC(2006, 0, 1) + (n % 3650) * 86_400_000).toISOString().slice(0, 10);
  return validAnswers({
    aboutPerson: { firstName: FIRST[n % FIRST.length]!, lastName: LAST[Math.floor(n / FIRST.length) % LAST.length]!, dateOfBirth: dob },
    concern: { whatSeenOrHeard: `Referral ${n}: shared extremist videos with classmates and said violence was justified.` },
  });
}
const REFERENCE = /[A-Z]{2,5}-\d{4}-\d{6}/;

type Kind = 'refer' | 'next' | 'submit';


class User {
  readonly conversationId: string;
  constructor(
    readonly aadObjectId: string,
    readonly name: string,
    readonly serviceUrl: string,
  ) {
    this.conversationId = `a:personal-${aadObjectId}`;
  }

  /** What Teams puts on every activity in a personal chat. */
  private base(): Record<string, unknown> {
    const now = new Date();
    return {
      id: `in-${randomUUID()}`,
      timestamp: now.toISOString(),
      localTimestamp: now.toISOString(),
      localTimezone: 'Europe/London',
      channelId: 'msteams',
      serviceUrl: this.serviceUrl,
      from: { id: `29:${this.aadObjectId}`, name: this.name, aadObjectId: this.aadObjectId },
      recipient: { id: BOT_ID, name: 'Safeguard Desk' },
      conversation: { id: this.conversationId, conversationType: 'personal', tenantId: TENANT },
      entities: [{ type: 'clientInfo', locale: 'en-GB', country: 'GB', platform: 'Web', timezone: 'Europe/London' }],
      channelData: { tenant: { id: TENANT } },
      locale: 'en-GB',
    };
  }

  message(text: string): string {
    return JSON.stringify({ ...this.base(), type: 'message', text, textFormat: 'plain' });
  }

  invoke(verb: string, data: Record<string, unknown>, replyToId: string): string {
    const b = this.base();
    return JSON.stringify({
      ...b,
      type: 'invoke',
      name: 'adaptiveCard/action',
      replyToId,
      channelData: { tenant: { id: TENANT }, source: { name: 'message' }, legacy: { replyToId } },
      value: { action: { type: 'Action.Execute', verb, data }, trigger: 'manual' },
    });
  }
}

interface Target {
  readonly name: 'baseline' | 'bot';
  readonly port: number;
  readonly pid: number | undefined;
}

class RunStats {
  readonly latency: number[] = [];
  readonly byKind: Record<Kind, number[]> = { refer: [], next: [], submit: [] };
  /** Non-200 answers and transport errors, over the whole run (warm-up included). */
  non200 = 0;
  transportErrors = 0;
  /** 200 answers carrying the wrong card (a validation error, an error card, no draftId). */
  wrongCard = 0;
  /** Referrals acknowledged with a reference (bot) or submit answered 200 (baseline), whole run. */
  submittedTotal = 0;
  submittedInWindow = 0;
  readonly statuses = new Map<number, number>();
  readonly errorSamples: string[] = [];
  /** CPU ms over the measured window; `others` is whatever else ran on the machine meanwhile. */
  cpu?: { server?: number | undefined; pg?: number | undefined; loadgen: number; machineBusy?: number | undefined; others?: number | undefined } | undefined;
}

interface Window {
  readonly warmEnd: number;
  readonly end: number;
  stopped: boolean;
}

async function runLoad(target: Target, users: number, s: Settings, connector: LeanConnector, pgPids: PgPids, tag: string): Promise<RunStats> {
  const stats = new RunStats();
  const agent = new Agent({ keepAlive: true, maxSockets: users, maxFreeSockets: users });
  const t0 = performance.now();
  const w: Window = { warmEnd: t0 + s.warmupS * 1000, end: t0 + (s.warmupS + s.measureS) * 1000, stopped: false };
  const isBot = target.name === 'bot';

  const timed = async (kind: Kind, body: string): Promise<HttpResult | undefined> => {
    const start = performance.now();
    let r: HttpResult;
    try {
      r = await post(agent, target.port, body);
    } catch (err) {
      stats.transportErrors += 1;
      if (stats.errorSamples.length < 5) stats.errorSamples.push(`${kind}: ${(err as Error).message}`);
      return undefined;
    }
    const done = performance.now();
    stats.statuses.set(r.status, (stats.statuses.get(r.status) ?? 0) + 1);
    if (r.status !== 200) {
      stats.non200 += 1;
      if (stats.errorSamples.length < 5) stats.errorSamples.push(`${kind}: HTTP ${r.status} ${r.text.slice(0, 200)}`);
      return undefined;
    }
    if (done >= w.warmEnd && done < w.end) {
      const ms = done - start;
      stats.latency.push(ms);
      stats.byKind[kind].push(ms);
    }
    return r;
  };

  const wrong = (what: string, text: string) => {
    stats.wrongCard += 1;
    if (stats.errorSamples.length < 5) stats.errorSamples.push(`${what}: unexpected answer ${text.slice(0, 300)}`);
  };

  /** One whole referral; returns early (and the loop starts a new one) on any failure or at the end of the run. */
  const referral = async (u: User): Promise<void> => {
    const r0 = await timed('refer', u.message('refer'));
    if (!r0) return;
    let draftId: string;
    let cardActivityId: string;
    if (isBot) {
      const card = connector.cards.get(u.conversationId);
      connector.cards.delete(u.conversationId);
      if (!card) return wrong('refer', '(no card reached the connector)');
      draftId = card.draftId;
      cardActivityId = card.activityId;
    } else {
      draftId = randomUUID();
      cardActivityId = `sent-${randomUUID()}`;
    }
    const answers = answersFor();
    for (let i = 0; i < wizardSteps.length; i++) {
      if (w.stopped) return;
      const step = wizardSteps[i]!;
      const r = await timed('next', u.invoke('wizard.next', { draftId, step, fromReview: '', ...answers[step] }, cardActivityId));
      if (!r) return;
      if (isBot) {
        const nextStep = wizardSteps[i + 1];
        const expected = nextStep ? `"step":"${nextStep}"` : '"verb":"wizard.submit"';
        if (!r.text.includes(expected)) return wrong(`wizard.next ${step}`, r.text);
      }
    }
    if (w.stopped) return;
    const r = await timed('submit', u.invoke('wizard.submit', { draftId, declaration: 'true' }, cardActivityId));
    if (!r) return;
    if (isBot && !REFERENCE.test(r.text)) return wrong('wizard.submit', r.text);
    stats.submittedTotal += 1;
    const now = performance.now();
    if (now >= w.warmEnd && now < w.end) stats.submittedInWindow += 1;
  };

  const loop = async (u: User) => {
    while (!w.stopped) await referral(u);
  };

  let cpuStart: Promise<CpuSnapshot> | undefined;
  const startTimer = setTimeout(() => {
    cpuStart = cpuSnapshot(target.pid, pgPids);
    if (s.cpuProfDir && isBot) console.log(`  [${tag}] measured window starts at monotonic ${process.hrtime.bigint() / 1000n} µs`);
  }, s.warmupS * 1000);
  let cpuEnd: Promise<CpuSnapshot> | undefined;
  const endTimer = setTimeout(() => {
    w.stopped = true;
    cpuEnd = cpuSnapshot(target.pid, pgPids);
    if (s.cpuProfDir && isBot) console.log(`  [${tag}] measured window ends at monotonic ${process.hrtime.bigint() / 1000n} µs`);
  }, (s.warmupS + s.measureS) * 1000);

  // Distinct users per run: `bench-<tag>-<n>`, shaped as AAD object ids, none in the directory.
  const run = randomBytes(2).toString('hex');
  const list = Array.from({ length: users }, (_, i) => new User(`b${run}${tag === 'bot' ? 'b' : 'a'}00-0000-4000-8000-${String(i).padStart(12, '0')}`, `Bench User ${i}`, connector.url));
  await Promise.all(list.map(loop));
  clearTimeout(startTimer);
  clearTimeout(endTimer);
  agent.destroy();

  if (cpuStart && cpuEnd) {
    const a = await cpuStart;
    const b = await cpuEnd;
    const d = (x?: number, y?: number) => (x !== undefined && y !== undefined ? y - x : undefined);
    const mb = a.machine && b.machine ? (b.machine.busy - a.machine.busy) / (b.machine.total - a.machine.total) : undefined;
    const busyMs = a.machine && b.machine ? ((b.machine.busy - a.machine.busy) * 1000) / clockTicks : undefined;
    const server = d(a.server, b.server);
    const pg = pgCpuDelta(a, b);
    const loadgen = b.loadgen - a.loadgen;
    const others = busyMs !== undefined && server !== undefined && pg !== undefined ? Math.max(0, busyMs - server - pg - loadgen) : undefined;
    stats.cpu = { server, pg, loadgen, machineBusy: mb, others };
  }
  return stats;
}

// ───────────────────────── reporting ─────────────────────────


interface Summary {
  readonly count: number;
  readonly perS: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

function summarise(values: number[], seconds: number): Summary {
  const a = Float64Array.from(values).sort();
  return { count: a.length, perS: a.length / seconds, p50: percentile(a, 0.5), p90: percentile(a, 0.9), p99: percentile(a, 0.99), max: a.length ? a[a.length - 1]! : NaN };
}


// ───────────────────────── main ─────────────────────────

let cleanup: (() => Promise<void>) | undefined;

async function main(): Promise<void> {
  const s = settings();
  const cores = cpus().length;
  const [l1, l5, l15] = loadavg();
  console.log(`bench:submit: whole referrals vs bare node:http + one INSERT (DESIGN.md §12)`);
  console.log(`machine: ${cores} cores, load average ${f2(l1!)} ${f2(l5!)} ${f2(l15!)} (see "other procs" below for what else ran during each measured window)`);

  const admin = postgres(s.adminUrl, { max: 1, onnotice: () => {} });
  const dbName = `sgd_bench_${randomBytes(4).toString('hex')}`;
  const dbUrl = new URL(s.adminUrl);
  dbUrl.pathname = `/${dbName}`;
  let dbCreated = false;
  let connector: LeanConnector | undefined;
  let verifySql: postgres.Sql | undefined;

  let cleaning: Promise<void> | undefined;
  cleanup = () =>
    (cleaning ??= (async () => {
      await Promise.all([...children].map(stopChild));
      await connector?.stop().catch(() => {});
      await verifySql?.end({ timeout: 5 }).catch(() => {});
      if (dbCreated) {
        await admin.unsafe(`drop database if exists ${dbName} with (force)`).catch((err: unknown) => console.error(`could not drop ${dbName}:`, err));
      }
      await admin.end({ timeout: 5 }).catch(() => {});
    })());

  try {
    await admin.unsafe(`create database ${dbName}`);
    dbCreated = true;
    verifySql = postgres(dbUrl.toString(), { max: 1, onnotice: () => {} });
    await verifySql`create table bench_baseline (id bigint generated always as identity primary key, activity_id text not null, type text not null, user_id text, received_at timestamptz not null default now())`;

    const vs = verifySql;
    const pgPids: PgPids = async () =>
      (
        await vs<Array<{ pid: number }>>`select pid from pg_stat_activity
          where (datname = current_database() and pid <> pg_backend_pid())
             or backend_type in ('walwriter', 'checkpointer', 'background writer')`
      ).map((r) => r.pid);

    connector = await new LeanConnector().start();
    console.log(
      `database: ${dbName} (fresh, dropped at the end); pool ${s.poolSize} connections each; warm-up ${s.warmupS} s, measured ${s.measureS} s per run; levels ${s.levels.join(', ')} users`,
    );
    console.log(`processes: bot and baseline each in its own child process; load generator and fake Bot Connector in this one; children's output in ${s.logDir}`);

    const bot = s.targets.includes('bot')
      ? await startChild(
          'bot',
          s.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${s.cpuProfDir}`] : [],
          'src/index.ts',
          { HOST: '127.0.0.1', DATABASE_URL: dbUrl.toString(), DATABASE_POOL_SIZE: String(s.poolSize), LOG_LEVEL: 'warn' },
          s.logDir,
        )
      : undefined;
    const baseline = s.targets.includes('baseline')
      ? await startChild('baseline', [], thisFile, { BENCH_ROLE: 'baseline', DATABASE_URL: dbUrl.toString(), DATABASE_POOL_SIZE: String(s.poolSize) }, s.logDir)
      : undefined;

    const results = new Map<string, RunStats>();
    for (const users of s.levels) {
      for (const [name, child] of [
        ['baseline', baseline],
        ['bot', bot],
      ] as const) {
        if (!child) continue;
        process.stdout.write(`running ${name} at ${users} users … `);
        const target: Target = { name, port: Number(new URL(child.url).port), pid: child.proc.pid };
        const st = await runLoad(target, users, s, connector, pgPids, name);
        results.set(`${name}:${users}`, st);
        const sum = summarise(st.latency, s.measureS);
        console.log(`${f1(sum.perS)} req/s, p50 ${f2(sum.p50)} ms, p99 ${f2(sum.p99)} ms`);
        if (child.exited) throw new Error(`${name} died during the run; see ${child.logFile}:\n${tail(child.logFile)}`);
        await sleep(1000);
      }
    }

    // ── results
    console.log('\nper run (measured window only; errors over the whole run)');
    const rows: string[][] = [];
    for (const users of s.levels) {
      for (const name of ['baseline', 'bot'] as const) {
        const st = results.get(`${name}:${users}`);
        if (!st) continue;
        const sum = summarise(st.latency, s.measureS);
        const cpu = st.cpu;
        const perReq = (ms?: number) => (ms !== undefined && sum.count > 0 ? f3(ms / sum.count) : '–');
        rows.push([
          name === 'bot' ? 'bot (turns)' : 'baseline (req)',
          String(users),
          String(sum.count),
          f1(sum.perS),
          name === 'bot' ? f1(st.submittedInWindow / s.measureS) : '',
          f2(sum.p50),
          f2(sum.p90),
          f2(sum.p99),
          f1(sum.max),
          String(st.non200 + st.transportErrors),
          String(st.wrongCard),
          perReq(cpu?.server),
          perReq(cpu?.pg),
          perReq(cpu?.loadgen),
          cpu?.machineBusy !== undefined ? `${Math.round(cpu.machineBusy * 100)}%` : '–',
          cpu?.others !== undefined ? f2(cpu.others / 1000 / s.measureS) : '–',
        ]);
      }
    }
    console.log(
      table(['target', 'users', 'requests', 'per s', 'referrals/s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'non-200', 'wrong card', 'server CPU ms/req', 'pg CPU ms/req', 'loadgen CPU ms/req', 'machine busy', 'other procs (cores)'], rows),
    );

    if (bot) {
      console.log('\nbot turns by kind (measured window)');
      const krows: string[][] = [];
      for (const users of s.levels) {
        const st = results.get(`bot:${users}`);
        if (!st) continue;
        for (const kind of ['refer', 'next', 'submit'] as const) {
          const sum = summarise(st.byKind[kind], s.measureS);
          const label = kind === 'refer' ? 'refer (message + reply POST)' : kind === 'next' ? 'wizard.next (invoke) ×5' : 'wizard.submit (invoke)';
          krows.push([label, String(users), String(sum.count), f2(sum.p50), f2(sum.p90), f2(sum.p99), f1(sum.max)]);
        }
      }
      console.log(table(['turn', 'users', 'count', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms'], krows));
    }

    let failed = false;
    if (bot && baseline) {
      console.log('\nratios against the baseline at the same concurrency (DESIGN.md §12)');
      const rrows: string[][] = [];
      for (const users of s.levels) {
        const b = results.get(`baseline:${users}`);
        const t = results.get(`bot:${users}`);
        if (!b || !t) continue;
        const bs = summarise(b.latency, s.measureS);
        const ts = summarise(t.latency, s.measureS);
        const thr = ts.perS / bs.perS;
        const p99 = ts.p99 / bs.p99;
        const thrOk = thr >= 0.15;
        const p99Ok = p99 <= 5;
        if (!thrOk || !p99Ok) failed = true;
        rrows.push([
          String(users),
          f1(ts.perS),
          f1(bs.perS),
          `${f3(thr)}× ${thrOk ? 'ok' : 'MISSED'}`,
          f2(ts.p99),
          f2(bs.p99),
          `${f2(p99)}× ${p99Ok ? 'ok' : 'MISSED'}`,
        ]);
      }
      console.log(table(['users', 'bot turns/s', 'baseline req/s', 'throughput (≥ 0.15×)', 'bot p99 ms', 'baseline p99 ms', 'p99 (≤ 5×)'], rrows));

      // What the targets ask of each turn's CPU. The bot serves a turn on one event loop, so at
      // the target rate its server CPU per turn must fit in one core; and the server, PostgreSQL
      // and the load generator together must fit in the machine. With closed-loop users the mean
      // latency is users / throughput (Little's law), so the p99 target implies a rate too: the
      // one at which the run's own p99/mean ratio would give 5× the baseline's p99.
      console.log('\nCPU per turn the targets allow (measured window; "allowed" = budget at the rate the target needs)');
      const brows: string[][] = [];
      for (const users of s.levels) {
        const b = results.get(`baseline:${users}`);
        const t = results.get(`bot:${users}`);
        if (!b || !t?.cpu || t.cpu.server === undefined || t.cpu.pg === undefined) continue;
        const bs = summarise(b.latency, s.measureS);
        const ts = summarise(t.latency, s.measureS);
        const per = (ms: number) => ms / ts.count;
        const server = per(t.cpu.server);
        const whole = per(t.cpu.server + t.cpu.pg + t.cpu.loadgen);
        const meanMs = (users / ts.perS) * 1000;
        const p99OverMean = ts.p99 / meanMs;
        const forP99 = (users * 1000 * p99OverMean) / (5 * bs.p99);
        for (const [target, rate] of [
          ['throughput 0.15×', 0.15 * bs.perS],
          ['p99 5×', forP99],
        ] as const) {
          brows.push([
            String(users),
            target,
            f1(rate),
            `${f3(server)} / ${f3(1000 / rate)}`,
            `${f3(whole)} / ${f3((cpus().length * 1000) / rate)}`,
          ]);
        }
      }
      console.log(table(['users', 'target', 'turns/s needed', 'server ms/turn: measured / allowed (1 core)', 'server+pg+loadgen ms/turn: measured / allowed (machine)'], brows));
    }

    // ── correctness
    console.log('\nchecks');
    let clientSubmitted = 0;
    let problems = 0;
    for (const [key, st] of results) {
      const [name] = key.split(':');
      if (name === 'bot') clientSubmitted += st.submittedTotal;
      const bad = st.non200 + st.transportErrors;
      problems += bad + st.wrongCard;
      if (bad + st.wrongCard > 0) {
        console.log(`  ${key}: ${st.non200} non-200, ${st.transportErrors} transport errors, ${st.wrongCard} wrong cards; statuses ${JSON.stringify(Object.fromEntries(st.statuses))}`);
        for (const e of st.errorSamples) console.log(`    e.g. ${e}`);
      }
    }
    console.log(`  non-200 responses (all runs, warm-up included): ${[...results.values()].reduce((a, st) => a + st.non200 + st.transportErrors, 0)} (must be 0)`);
    console.log(`  wrong cards (200 with an unexpected card): ${[...results.values()].reduce((a, st) => a + st.wrongCard, 0)} (must be 0)`);
    if (bot) {
      const [row] = await verifySql<Array<{ n: string; refs: string }>>`select count(*)::text as n, count(distinct reference)::text as refs from referrals`;
      const inDb = Number(row?.n);
      const ok = inDb === clientSubmitted && Number(row?.refs) === inDb;
      if (!ok) problems += 1;
      console.log(`  referrals in the database: ${inDb} (distinct references ${row?.refs}); acknowledged to the client: ${clientSubmitted} → ${ok ? 'match' : 'MISMATCH'}`);
      console.log(`  connector: ${connector.posts} reply POSTs, ${connector.unexpected} unexpected`);
      if (connector.unexpected > 0) problems += 1;
    }
    if (baseline) {
      const [row] = await verifySql<Array<{ n: string }>>`select count(*)::text as n from bench_baseline`;
      const answered = [...results.entries()].filter(([k]) => k.startsWith('baseline:')).reduce((a, [, st]) => a + [...st.statuses.entries()].filter(([c]) => c === 200).reduce((x, [, n]) => x + n, 0), 0);
      console.log(`  baseline rows: ${row?.n}; 200s answered: ${answered} → ${Number(row?.n) === answered ? 'match' : 'MISMATCH'}`);
      if (Number(row?.n) !== answered) problems += 1;
    }
    const busy = [...results.entries()].filter(([, st]) => (st.cpu?.others ?? 0) / 1000 / s.measureS > 0.2);
    if (busy.length > 0) {
      console.log(`\nwarning: other processes used more than 0.2 cores during ${busy.map(([k]) => k).join(', ')}: those figures are low and the ratios noisy; run again on a quiet machine`);
    }
    if (problems > 0 || failed) process.exitCode = 1;
  } finally {
    await cleanup();
    console.log(`\ncleaned up: children stopped, database ${dbName} dropped${s.cpuProfDir ? `; CPU profile in ${s.cpuProfDir}` : ''}`);
  }
}

// ───────────────────────── entry ─────────────────────────

if (process.env.BENCH_ROLE === 'baseline') {
  await runBaselineServer();
} else {
  // Children never outlive us: a signal stops them and drops the database; a crash kills them outright.
  process.on('exit', () => {
    for (const c of children) if (!c.exited) c.proc.kill('SIGKILL');
  });
  await runBench('bench:submit', main, { cleanup: () => cleanup, onSignal: 'stopping children and dropping the database' });
}
