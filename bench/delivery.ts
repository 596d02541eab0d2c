/**
 * Proactive delivery against Teams' rate limits. Target (the issue):
 * "delivering 2,000 reminders to 200 users against a connector that enforces
 * Teams' limits completes within 1.1× the minimum those limits allow, with
 * zero lost" — and none delivered twice.
 *
 *   node --import tsx bench/delivery.ts
 *
 * In this one process:
 * - a fake Bot Connector (node:http) that ENFORCES Teams' limits (DESIGN §4)
 *   with its own sliding windows, per conversation (7 / 1 s, 8 / 2 s,
 *   60 / 30 s, 1800 / 1 h) and for the whole app (30 / 1 s). A request that
 *   would go over any of them is answered 429 with `Retry-After: 1` and is not
 *   counted in the windows; any other is accepted (200 `{id}`) and recorded.
 *   Each request takes a random 20–40 ms (half on the way in, before the
 *   limits are checked, half on the way out), like a nearby data centre;
 * - the real service, `startService(loadConfig({...}), { deliveryPolling: true })`
 *   as test/harness/harness.ts starts it (one, or several on the same database
 *   with INSTANCES=N), on a fresh PostgreSQL database, OUTBOX_POLL_MS=200.
 *
 * Workload: 200 users, each with a stored conversation reference
 * (saveConversationRef, shaped as src/bot/app.ts `storableReference` stores
 * it, serviceUrl = the connector); 2,000 `referral.status` messages (10 per
 * user) queued due now in one enqueueMessages call. Each message has its own
 * reference, PRV-2026-000001…002000, which the card's title carries; the
 * connector reads it back from the posted card, so every delivery is
 * attributed to its outbox row. BENCH_ORDER says how the rows are laid down
 * (the deliverer claims them in that order: they are all due at the same
 * moment): `interleaved`, round robin over the users, the easy case; and
 * `grouped`, a user's 10 together, as a job that works user by user would
 * queue them. Every order × instances combination is a scenario.
 *
 * Measured: from just before the enqueue to the later of the last message
 * accepted by the connector and the last outbox row's sent_at, once every row
 * is `sent`. Then 2 s more are watched for late duplicates.
 *
 * Minimum (printed with its working): see `minimumScheduleMs`. The app window
 * lets message k (0-based) be accepted no earlier than floor(k / 30) s, so
 * the 2,000th can go at 66 s at the earliest (the naive 2000 / 30 = 66.7 s
 * overstates it by the first second's burst). Per conversation, a user's 10
 * need 2 s (7 at 0 s, the 8th at 1 s when the 1 s window has cleared, the
 * 9th and 10th at 2 s when the first two leave the 2 s window), and the 30 s
 * and 1 h windows (60, 1800) are never reached by 10; with 200 users sharing
 * 30 / s that is nowhere near binding. A greedy schedule under the same windows
 * reaches the 66 s bound, so 66 s is the minimum; plus one request's shortest
 * round trip (20 ms) for the last acknowledgement.
 *
 * Reported per scenario: elapsed, minimum, ratio (target ≤ 1.1×), 429s,
 * delivered, lost (queued, never accepted), doubled (accepted more than once),
 * outbox rows by status, connector requests by outcome, each instance's
 * sends (watched at the transport) against its share of the app limit, and
 * "client resends": requests that repeat an x-ms-client-request-id already
 * seen, i.e. botbuilder's HTTP client (@azure/core-rest-pipeline
 * defaultRetryPolicy → throttlingRetryStrategy) resending a 429 by itself
 * after Retry-After, outside the deliverer's limiters and lease. Proactive
 * clients have had that retry phase removed since a0ecd35 (src/bot/adapter.ts
 * `withoutRetries`), so this must stay 0. Per-second counts of accepted
 * requests and 429s (by window) show where the time went. Exit 1 when a
 * scenario misses the ratio or loses or doubles a message.
 *
 * Environment (all optional):
 *   BENCH_DATABASE_URL  admin URL (default postgres://postgres@127.0.0.1:5432/postgres)
 *   BENCH_INSTANCES     scenarios: deliverer instances on the same database, comma separated (default 1,2)
 *   BENCH_ORDER         interleaved and/or grouped, comma separated (default interleaved,grouped)
 *   BENCH_USERS         users (default 200)
 *   BENCH_PER_USER      messages per user (default 10)
 *   BENCH_LATENCY_MS    connector round trip range, min-max (default 20-40)
 *   BENCH_POLL_MS       OUTBOX_POLL_MS (default 200)
 *   BENCH_TARGET        ratio target (default 1.1)
 *   BENCH_LOG_DIR       where the services' logs go (default a new folder in /tmp)
 *
 * Each scenario gets its own database (sgd_bench_delivery_*), dropped at the
 * end, also on error, SIGINT and SIGTERM.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, type WriteStream } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import postgres from 'postgres';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/log.js';
import { startService, type RunningService } from '../src/start.js';
import { enqueueMessages, type OutboxMessage } from '../src/db/repositories/outbox.js';
import { saveConversationRef } from '../src/db/repositories/conversation-refs.js';
import type { SendProactive } from '../src/notify/deliverer.js';
import { envNumber, f1, f2, f3, runBench } from './lib.js';

// ───────────────────────── Teams' limits (DESIGN §4), as the connector enforces them ─────────────────────────

interface Window {
  readonly limit: number;
  readonly ms: number;
  readonly name: string;
}

/** Deliberately not imported from src/notify/rate-limit.ts: the connector stands for Teams, not for our reading of it. */
const PER_CONVERSATION: readonly Window[] = [
  { limit: 7, ms: 1000, name: 'conv 7/1s' },
  { limit: 8, ms: 2000, name: 'conv 8/2s' },
  { limit: 60, ms: 30_000, name: 'conv 60/30s' },
  { limit: 1800, ms: 3_600_000, name: 'conv 1800/1h' },
];
const PER_APP: readonly Window[] = [{ limit: 30, ms: 1000, name: 'app 30/1s' }];

/** The first window that one more send at `now` would overflow; `times` ascending, all ≤ now. Window = (now − ms, now]. */
function overflowed(times: readonly number[], windows: readonly Window[], now: number): Window | undefined {
  for (const w of windows) {
    let n = 0;
    for (let i = times.length - 1; i >= 0 && times[i]! > now - w.ms; i--) n++;
    if (n >= w.limit) return w;
  }
  return undefined;
}

/** Milliseconds until one more send fits every window (0: now); `times` ascending, all ≤ now. */
function delayUntilFits(times: readonly number[], windows: readonly Window[], now: number): number {
  let wait = 0;
  for (const w of windows) {
    const n = times.length;
    if (n >= w.limit) wait = Math.max(wait, times[n - w.limit]! + w.ms - now);
  }
  return Math.max(0, wait);
}

/**
 * The earliest time the last message can be accepted when every message is
 * available at 0 and nothing but the limits holds it back: a greedy schedule
 * (at each moment, one message per conversation per round, most-remaining
 * first, while the app window has room), stepping to the next moment a window
 * opens. A lower bound needs no schedule (the app window alone gives
 * floor((N − 1) / 30) s); this checks that it is reachable with the
 * per-conversation windows too.
 */
function minimumScheduleMs(counts: readonly number[]): { lastMs: number; appBoundMs: number; convBoundMs: number } {
  const remaining = [...counts];
  const convTimes = counts.map(() => [] as number[]);
  const appTimes: number[] = [];
  let t = 0;
  let last = 0;
  let left = remaining.reduce((a, b) => a + b, 0);
  while (left > 0) {
    let progressed = true;
    while (progressed && left > 0) {
      progressed = false;
      const order = remaining.map((r, i) => [r, i] as const).filter(([r]) => r > 0).sort((a, b) => b[0] - a[0]);
      for (const [, i] of order) {
        if (delayUntilFits(appTimes, PER_APP, t) > 0) break;
        if (delayUntilFits(convTimes[i]!, PER_CONVERSATION, t) > 0) continue;
        appTimes.push(t);
        convTimes[i]!.push(t);
        remaining[i]! -= 1;
        left -= 1;
        last = t;
        progressed = true;
      }
    }
    if (left === 0) break;
    const app = delayUntilFits(appTimes, PER_APP, t);
    let next = Infinity;
    for (let i = 0; i < remaining.length; i++) if (remaining[i]! > 0) next = Math.min(next, Math.max(app, delayUntilFits(convTimes[i]!, PER_CONVERSATION, t)));
    t += Math.max(1, next);
  }
  const total = counts.reduce((a, b) => a + b, 0);
  const appBoundMs = Math.floor((total - 1) / PER_APP[0]!.limit) * PER_APP[0]!.ms;
  // One conversation alone: its own windows only.
  let convBoundMs = 0;
  {
    const times: number[] = [];
    let u = 0;
    for (let k = 0; k < Math.max(...counts); k++) {
      u += delayUntilFits(times, PER_CONVERSATION, u);
      times.push(u);
    }
    convBoundMs = u;
  }
  return { lastMs: last, appBoundMs, convBoundMs };
}

// ───────────────────────── the enforcing fake Bot Connector ─────────────────────────

const REFERENCE = /PRV-\d{4}-\d{6}/;

interface Attempt {
  readonly at: number;
  readonly conversationId: string;
  readonly reference: string | undefined;
  /** undefined: accepted; otherwise the window it would have overflowed. */
  readonly rejectedBy: string | undefined;
  /** Same x-ms-client-request-id as an earlier request: the HTTP client resending by itself. */
  readonly pipelineRetry: boolean;
}

class LimitedConnector {
  private server: Server | undefined;
  private counter = 0;
  private readonly convTimes = new Map<string, number[]>();
  private readonly appTimes: number[] = [];
  private readonly requestIds = new Set<string>();
  readonly attempts: Attempt[] = [];
  /** Accepted deliveries per reference. */
  readonly delivered = new Map<string, number>();
  unexpected = 0;
  inFlight = 0;
  maxInFlight = 0;
  url = '';

  constructor(
    private readonly latencyMin: number,
    private readonly latencyMax: number,
  ) {}

  /** Half of a round trip, at random within the range. */
  private leg(): number {
    return (this.latencyMin + Math.random() * (this.latencyMax - this.latencyMin)) / 2;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.inFlight += 1;
        this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
        const reply = (status: number, headers: Record<string, string>, body: string) => {
          setTimeout(() => {
            this.inFlight -= 1;
            res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...headers }).end(body);
          }, this.leg());
        };
        const m = /^\/v3\/conversations\/([^/]+)\/activities(?:\/[^/?]+)?/.exec(req.url ?? '');
        if (!m || req.method !== 'POST') {
          this.unexpected += 1;
          reply(404, {}, '{}');
          return;
        }
        const conversationId = decodeURIComponent(m[1]!);
        const reference = REFERENCE.exec(Buffer.concat(chunks).toString('utf8'))?.[0];
        if (!reference) this.unexpected += 1;
        const requestId = req.headers['x-ms-client-request-id'];
        let pipelineRetry = false;
        if (typeof requestId === 'string') {
          pipelineRetry = this.requestIds.has(requestId);
          this.requestIds.add(requestId);
        }
        // The way in: the limits are checked when the request reaches "Teams".
        setTimeout(() => {
          const now = Date.now();
          let conv = this.convTimes.get(conversationId);
          if (!conv) this.convTimes.set(conversationId, (conv = []));
          const over = overflowed(this.appTimes, PER_APP, now) ?? overflowed(conv, PER_CONVERSATION, now);
          this.attempts.push({ at: now, conversationId, reference, rejectedBy: over?.name, pipelineRetry });
          if (over) {
            reply(429, { 'retry-after': '1' }, JSON.stringify({ error: { code: 'TooManyRequests', message: `over ${over.name}` } }));
            return;
          }
          this.appTimes.push(now);
          conv.push(now);
          if (reference) this.delivered.set(reference, (this.delivered.get(reference) ?? 0) + 1);
          reply(200, {}, JSON.stringify({ id: `sent-${++this.counter}` }));
        }, this.leg());
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
    this.server = undefined;
  }
}

// ───────────────────────── settings ─────────────────────────

interface Settings {
  readonly adminUrl: string;
  readonly instances: number[];
  readonly orders: Array<'grouped' | 'interleaved'>;
  readonly users: number;
  readonly perUser: number;
  readonly latencyMin: number;
  readonly latencyMax: number;
  readonly pollMs: number;
  readonly target: number;
  readonly logDir: string;
}

function settings(): Settings {
  const num = (name: string, dflt: number) => envNumber(name, dflt);
  const instances = (process.env.BENCH_INSTANCES ?? '1,2').split(',').map((s) => Number(s.trim()));
  if (instances.some((n) => !Number.isInteger(n) || n < 1 || n > 8)) throw new Error('BENCH_INSTANCES must be integers 1–8, comma separated');
  const orders = (process.env.BENCH_ORDER ?? 'interleaved,grouped').split(',').map((o) => o.trim());
  for (const o of orders) if (o !== 'grouped' && o !== 'interleaved') throw new Error(`BENCH_ORDER: unknown order ${o} (grouped, interleaved)`);
  const lat = /^(\d+)-(\d+)$/.exec(process.env.BENCH_LATENCY_MS ?? '20-40');
  if (!lat || Number(lat[1]) > Number(lat[2])) throw new Error('BENCH_LATENCY_MS must be min-max in ms, e.g. 20-40');
  const logDir = process.env.BENCH_LOG_DIR ?? mkdtempSync(join(tmpdir(), 'sgd-bench-delivery-'));
  mkdirSync(logDir, { recursive: true });
  return {
    adminUrl: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    instances,
    orders: orders as Array<'grouped' | 'interleaved'>,
    users: Math.round(num('BENCH_USERS', 200)),
    perUser: Math.round(num('BENCH_PER_USER', 10)),
    latencyMin: Number(lat[1]),
    latencyMax: Number(lat[2]),
    pollMs: Math.round(num('BENCH_POLL_MS', 200)),
    target: num('BENCH_TARGET', 1.1),
    logDir,
  };
}

// ───────────────────────── one scenario ─────────────────────────

const TENANT = '11111111-2222-3333-4444-555555555555';
const BOT_ID = '28:safeguard-desk-bot';

interface Result {
  readonly instances: number;
  readonly order: string;
  readonly elapsedMs: number;
  readonly minimumMs: number;
  readonly ratio: number;
  readonly queued: number;
  readonly delivered: number;
  readonly lost: number;
  readonly doubled: number;
  readonly extraDeliveries: number;
  readonly rejected: number;
  readonly pipelineRetries: number;
  readonly timedOut: boolean;
  readonly ok: boolean;
}

/** What the cleanup must undo; filled in as the scenario goes. */
interface Live {
  services: RunningService[];
  connector?: LimitedConnector;
  logStreams: WriteStream[];
  databases: string[];
}

const live: Live = { services: [], logStreams: [], databases: [] };


async function runScenario(s: Settings, admin: postgres.Sql, instances: number, order: 'grouped' | 'interleaved', minimum: { totalMs: number }): Promise<Result> {
  const tag = `${instances} instance${instances === 1 ? '' : 's'}`;
  console.log(`\n── ${tag} (INSTANCES=${instances}: each deliverer takes 1/${instances} of the app limit), messages queued ${order}`);
  const dbName = `sgd_bench_delivery_${randomBytes(4).toString('hex')}`;
  const dbUrl = new URL(s.adminUrl);
  dbUrl.pathname = `/${dbName}`;
  await admin.unsafe(`create database ${dbName}`);
  live.databases.push(dbName);

  const connector = await new LimitedConnector(s.latencyMin, s.latencyMax).start();
  live.connector = connector;

  const logFiles: string[] = [];
  const services: RunningService[] = [];
  /** Per instance, when its deliverer called the transport (undefined: could not watch). */
  const sendTimes: Array<number[] | undefined> = [];
  for (let i = 0; i < instances; i++) {
    const logFile = join(s.logDir, `${dbName}-instance-${i + 1}.log`);
    const stream = createWriteStream(logFile);
    live.logStreams.push(stream);
    logFiles.push(logFile);
    // Only what is given here: nothing from our environment (no Bot Framework auth, no NODE_ENV).
    const config = loadConfig({
      PORT: '0',
      DATABASE_URL: dbUrl.toString(),
      DATABASE_POOL_SIZE: '5',
      LOG_LEVEL: 'info',
      OUTBOX_POLL_MS: String(s.pollMs),
      INSTANCES: String(instances),
    });
    // One at a time: each migrates (under an advisory lock) on open.
    const service = await startService(config, { log: createLogger('info', stream), deliveryPolling: true });
    services.push(service);
    live.services.push(service);
    sendTimes.push(watchSends(service));
  }
  const db = services[0]!.database.db;
  const sql = postgres(dbUrl.toString(), { max: 1, onnotice: () => {} });

  try {
    // ── users and their conversations
    const users = Array.from({ length: s.users }, (_, i) => `bd000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
    const setupAt = new Date();
    for (const [i, aad] of users.entries()) {
      await saveConversationRef(
        db,
        aad,
        {
          channelId: 'msteams',
          serviceUrl: connector.url,
          locale: 'en-GB',
          conversation: { id: `a:bench-delivery-${i}`, conversationType: 'personal', tenantId: TENANT },
          bot: { id: BOT_ID, name: 'Safeguard Desk' },
          user: { id: `29:${aad}`, aadObjectId: aad },
        },
        setupAt,
      );
    }

    // ── the messages: one reference each, laid down grouped by user or round robin
    const laid: Array<[user: number, n: number]> = [];
    if (order === 'grouped') for (let u = 0; u < s.users; u++) for (let n = 0; n < s.perUser; n++) laid.push([u, n]);
    else for (let n = 0; n < s.perUser; n++) for (let u = 0; u < s.users; u++) laid.push([u, n]);
    const messages: OutboxMessage[] = laid.map(([u], k) => ({
      key: `bench.delivery:${k}`,
      kind: 'referral.status',
      recipientAadObjectId: users[u]!,
      payload: { reference: `PRV-2026-${String(k + 1).padStart(6, '0')}`, status: 'being_assessed' },
    }));
    const references = messages.map((m) => String(m.payload.reference));

    // ── go
    const t0 = Date.now();
    await enqueueMessages(db, messages, new Date(t0));
    const enqueuedMs = Date.now() - t0;

    const timeoutMs = Math.max(4 * minimum.totalMs, 120_000);
    let statuses = new Map<string, number>();
    let timedOut = false;
    let nextProgress = 10_000;
    for (;;) {
      await sleep(100);
      const rows = await sql<Array<{ status: string; n: number }>>`select status, count(*)::int as n from outbox group by status`;
      statuses = new Map(rows.map((r) => [r.status, r.n]));
      const sent = statuses.get('sent') ?? 0;
      const open = (statuses.get('pending') ?? 0) + (statuses.get('sending') ?? 0);
      const since = Date.now() - t0;
      if (since >= nextProgress) {
        const rejected = connector.attempts.filter((a) => a.rejectedBy).length;
        console.log(`  ${f1(since / 1000)} s: ${connector.delivered.size} delivered, ${sent} rows sent, ${rejected} 429s`);
        nextProgress += 10_000;
      }
      if (sent === messages.length && connector.delivered.size === messages.length) break;
      if (open === 0) break; // everything final, some not sent: no point waiting
      if (since > timeoutMs) {
        timedOut = true;
        break;
      }
    }
    const [times] = await sql<Array<{ last: Date | null }>>`select max(sent_at) as last from outbox where status = 'sent'`;
    const accepted = connector.attempts.filter((a) => !a.rejectedBy);
    const lastAccepted = accepted.length ? accepted[accepted.length - 1]!.at : t0;
    const end = Math.max(lastAccepted, times?.last ? new Date(times.last).getTime() : t0);
    const elapsedMs = end - t0;

    // Late duplicates (a lease running out under a slow send, a second instance): watch a little longer.
    await sleep(2000);
    const finalRows = await sql<Array<{ status: string; n: number; attempts: number }>>`select status, count(*)::int as n, sum(attempts)::int as attempts from outbox group by status order by status`;

    // ── figures
    let lost = 0;
    let doubled = 0;
    let extraDeliveries = 0;
    for (const r of references) {
      const n = connector.delivered.get(r) ?? 0;
      if (n === 0) lost += 1;
      if (n > 1) {
        doubled += 1;
        extraDeliveries += n - 1;
      }
    }
    const rejected = connector.attempts.filter((a) => a.rejectedBy);
    const pipelineRetries = connector.attempts.filter((a) => a.pipelineRetry).length;
    const ratio = elapsedMs / minimum.totalMs;
    const ok = !timedOut && ratio <= s.target && lost === 0 && doubled === 0;

    console.log(`  enqueue of ${messages.length} rows took ${enqueuedMs} ms (inside the elapsed time)`);
    console.log(`  elapsed   ${f2(elapsedMs / 1000)} s${timedOut ? ` (TIMED OUT after ${f1(timeoutMs / 1000)} s)` : ''}`);
    console.log(`  minimum   ${f2(minimum.totalMs / 1000)} s`);
    console.log(`  ratio     ${f3(ratio)}× (target ≤ ${s.target}×) → ${ratio <= s.target ? 'ok' : 'MISSED'}`);
    console.log(`  delivered ${connector.delivered.size} of ${messages.length}; lost ${lost}; doubled ${doubled}${extraDeliveries ? ` (${extraDeliveries} extra deliveries)` : ''}`);
    const byWindow = new Map<string, number>();
    for (const a of rejected) byWindow.set(a.rejectedBy!, (byWindow.get(a.rejectedBy!) ?? 0) + 1);
    console.log(
      `  connector: ${connector.attempts.length} requests: ${accepted.length} accepted, ${rejected.length} answered 429 (${[...byWindow].map(([w, n]) => `${w}: ${n}`).join(', ') || 'none'}); ` +
        `${pipelineRetries} were botbuilder's HTTP client resending by itself (same x-ms-client-request-id); most in flight at once ${connector.maxInFlight}; ${connector.unexpected} unexpected`,
    );
    const attemptsSum = finalRows.reduce((a, r) => a + r.attempts, 0);
    console.log(`  outbox rows: ${finalRows.map((r) => `${r.status} ${r.n}`).join(', ')}; attempts recorded ${attemptsSum} (${attemptsSum - messages.length} beyond one each: the deliverer's own retries)`);

    // ── where the time went: per second after the enqueue
    const secs = Math.ceil(Math.max(elapsedMs, ...connector.attempts.map((a) => a.at - t0)) / 1000);
    const acc = new Array<number>(secs + 1).fill(0);
    const rej = new Array<number>(secs + 1).fill(0);
    const rejApp = new Array<number>(secs + 1).fill(0);
    for (const a of connector.attempts) {
      const b = Math.floor((a.at - t0) / 1000);
      if (b < 0 || b > secs) continue;
      if (a.rejectedBy) {
        rej[b]! += 1;
        if (a.rejectedBy.startsWith('app')) rejApp[b]! += 1;
      } else acc[b]! += 1;
    }
    console.log(`  per second after the enqueue: accepted/429 (a 429 marked * was over a per-conversation window; app limit ${PER_APP[0]!.limit}/s)`);
    for (let from = 0; from <= secs; from += 10) {
      const cells: string[] = [];
      for (let b = from; b < Math.min(from + 10, secs + 1); b++) cells.push(`${acc[b]}/${rej[b]}${rej[b]! > rejApp[b]! ? '*' : ''}`.padStart(7));
      console.log(`   ${String(from).padStart(4)} s ${cells.join('')}`);
    }
    const fullSeconds = Math.floor(elapsedMs / 1000);
    const shortfall = acc.slice(0, fullSeconds).reduce((a, n) => a + Math.max(0, PER_APP[0]!.limit - n), 0);
    console.log(`  app capacity unused in the first ${fullSeconds} full seconds: ${shortfall} sends (${f1(shortfall / PER_APP[0]!.limit)} s worth at ${PER_APP[0]!.limit}/s)`);

    // ── what the services logged
    let willRetry = 0;
    for (const [i, file] of logFiles.entries()) {
      const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
      const count = (msg: string) => lines.filter((l) => l.includes(`"msg":"${msg}"`)).length;
      willRetry += count('delivery failed; will retry');
      console.log(
        `  instance ${i + 1} log: ${count('delivery failed; will retry')} "will retry", ${count('delivery failed for good')} "failed for good", ${count('outbox delivery pass failed')} "pass failed", ${lines.filter((l) => /"level":(50|60)/.test(l)).length} errors (${file})`,
      );
    }
    const share = Math.max(1, Math.floor(PER_APP[0]!.limit / instances));
    for (const [i, times] of sendTimes.entries()) {
      if (!times) {
        console.log(`  instance ${i + 1}: sends not watched (OutboxDeliverer internals changed; see watchSends)`);
        continue;
      }
      let most = 0;
      for (let a = 0, b = 0; b < times.length; b++) {
        while (times[b]! - times[a]! >= PER_APP[0]!.ms) a++;
        most = Math.max(most, b - a + 1);
      }
      // Counted when the transport is called, a few ms after the limiter stamped the slot: one over the share is that skew.
      console.log(`  instance ${i + 1}: ${times.length} sends started; at most ${most} started within ${PER_APP[0]!.ms} ms (its share of the app limit: ${share})`);
    }
    if (rejected.length > 0) {
      console.log(
        `  note: of ${rejected.length} 429s, ${pipelineRetries} were resent by botbuilder's HTTP client itself after Retry-After (holding a deliverer worker meanwhile, ` +
          `taking no rate-limit slot) and ${willRetry} reached the deliverer's own retry path (markRetry)`,
      );
    }

    return {
      instances,
      order,
      elapsedMs,
      minimumMs: minimum.totalMs,
      ratio,
      queued: messages.length,
      delivered: connector.delivered.size,
      lost,
      doubled,
      extraDeliveries,
      rejected: rejected.length,
      pipelineRetries,
      timedOut,
      ok,
    };
  } finally {
    await sql.end({ timeout: 5 }).catch(() => {});
    await stopLive(admin);
  }
}

/**
 * Records when a service's deliverer hands a message to the transport, to see
 * each instance's own rate. Reaches into OutboxDeliverer's options (`o.send`),
 * which the bench may do and src must not; returns undefined if that changed.
 */
function watchSends(service: RunningService): number[] | undefined {
  const d = service.deliverer as unknown as { o?: { send?: SendProactive } };
  const original = d.o?.send;
  if (!d.o || typeof original !== 'function') return undefined;
  const times: number[] = [];
  d.o.send = (reference, message) => {
    times.push(Date.now());
    return original(reference, message);
  };
  return times;
}

/** Stops the services and the connector and drops the databases made so far. Safe to call twice. */
async function stopLive(admin: postgres.Sql): Promise<void> {
  const services = live.services.splice(0);
  await Promise.all(
    services.map((svc) =>
      Promise.race([svc.close(), sleep(30_000)]).catch((err: unknown) => console.error('could not stop a service:', err)),
    ),
  );
  const connector = live.connector;
  live.connector = undefined;
  await connector?.stop().catch(() => {});
  for (const st of live.logStreams.splice(0)) st.end();
  for (const name of live.databases.splice(0)) {
    await admin.unsafe(`drop database if exists ${name} with (force)`).catch((err: unknown) => console.error(`could not drop ${name}:`, err));
  }
}

// ───────────────────────── main ─────────────────────────

async function main(): Promise<void> {
  const s = settings();
  const [l1, l5, l15] = loadavg();
  const total = s.users * s.perUser;
  console.log(`bench:delivery: ${total.toLocaleString('en-GB')} proactive messages to ${s.users} users against a connector enforcing Teams' limits; target ≤ ${s.target}× the minimum, none lost or doubled`);
  console.log(`machine: ${cpus().length} cores, load average ${f2(l1!)} ${f2(l5!)} ${f2(l15!)}; connector round trip ${s.latencyMin}–${s.latencyMax} ms; OUTBOX_POLL_MS=${s.pollMs}; logs in ${s.logDir}`);

  const sched = minimumScheduleMs(Array.from({ length: s.users }, () => s.perUser));
  const totalMs = Math.max(sched.lastMs, sched.appBoundMs, sched.convBoundMs) + s.latencyMin;
  console.log('\nminimum the limits allow (all messages due at 0):');
  console.log(
    `  app ${PER_APP[0]!.limit}/s (sliding): message k can be accepted at floor(k / ${PER_APP[0]!.limit}) s at the earliest → the ${total}th at ${f2(sched.appBoundMs / 1000)} s ` +
      `(the naive ${total} / ${PER_APP[0]!.limit} = ${f2(total / PER_APP[0]!.limit)} s counts the first second's burst as a full second)`,
  );
  console.log(
    `  per conversation (${PER_CONVERSATION.map((w) => w.name.replace('conv ', '')).join(', ')}): one user's ${s.perUser} need ${f2(sched.convBoundMs / 1000)} s alone; ` +
      `${s.users} users share the app's ${PER_APP[0]!.limit}/s, so each gets ${f2(PER_APP[0]!.limit / s.users)}/s on average: not binding`,
  );
  console.log(`  a greedy schedule under both sets of windows finishes at ${f2(sched.lastMs / 1000)} s, so that is reachable`);
  console.log(`  minimum = ${f2(Math.max(sched.lastMs, sched.appBoundMs, sched.convBoundMs) / 1000)} s + the shortest round trip ${s.latencyMin} ms = ${f2(totalMs / 1000)} s; target ≤ ${f2((s.target * totalMs) / 1000)} s`);

  const admin = postgres(s.adminUrl, { max: 1, onnotice: () => {} });
  cleanup = async () => {
    await stopLive(admin);
    await admin.end({ timeout: 5 }).catch(() => {});
  };
  const results: Result[] = [];
  try {
    for (const order of s.orders) for (const n of s.instances) results.push(await runScenario(s, admin, n, order, { totalMs }));
  } finally {
    await cleanup();
  }

  console.log('\nsummary');
  const header = ['instances', 'queued', 'elapsed s', 'minimum s', 'ratio', 'target', '429s', 'client resends', 'delivered', 'lost', 'doubled', 'result'];
  const rows = results.map((r) => [
    String(r.instances),
    r.order,
    f2(r.elapsedMs / 1000) + (r.timedOut ? ' (timeout)' : ''),
    f2(r.minimumMs / 1000),
    `${f3(r.ratio)}×`,
    `≤ ${s.target}×`,
    String(r.rejected),
    String(r.pipelineRetries),
    `${r.delivered}/${r.queued}`,
    String(r.lost),
    String(r.doubled),
    r.ok ? 'ok' : 'FAIL',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log([line(header), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(line)].join('\n'));
  console.log('\ncleaned up: services and connector stopped, databases dropped');
  if (results.some((r) => !r.ok)) process.exitCode = 1;
}

let cleanup: (() => Promise<void>) | undefined;
await runBench('bench:delivery', main, { cleanup: () => cleanup, onSignal: 'stopping the services and dropping the databases' });
// Pools and timers of a service that would not stop must not keep us alive.
setTimeout(() => process.exit(), 1000).unref();
