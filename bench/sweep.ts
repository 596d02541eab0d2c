/**
 * The reminder sweep over 10k, 100k and 1M open actions with the same number
 * due: its time must stay flat (within 2×) as the open actions grow
 * (DESIGN: "Reminder sweep: time flat (within 2×) from 10k to 1M open actions").
 *
 *   node --import tsx bench/sweep.ts          (npm run bench:sweep)
 *
 * Databases: one fresh PostgreSQL database per size (bench_sweep_<pid>_<size>),
 * created and migrated through the service's own `openDatabase`, loaded with
 * set-based SQL (`insert … select … from generate_series`), all three kept
 * side by side while measuring and dropped at the end (also on an error,
 * SIGINT or SIGTERM; only a SIGKILL leaves them behind).
 *
 * Data per size N (deterministic: ids are md5 of the row number, spreads come
 * from hashint4, so every size has the same shape):
 * - N / 10 referrals (`being_assessed`: triaged, so no triage reminders are
 *   owed) and one open case each, Northgate or Southbridge, owned by the
 *   area's officer (Megan Bowen, Adele Vance) or Isaiah Langer;
 * - N open actions, 10 per case, owned by the case's owner, at reminder
 *   stage 0; all due over the two years after tomorrow EXCEPT D (default
 *   1,000, the same D at every size) spread evenly through the table (every
 *   N/D-th row, as actions made on many different days would be), due in a
 *   fixed mix: ¼ tomorrow, ¼ today, ¼ overdue by up to 3 working days,
 *   ¼ overdue by more (escalated to the area's trained supervisors);
 * - then VACUUM ANALYZE and, once all sizes are loaded, a CHECKPOINT.
 *   Autovacuum is switched off on case_actions and outbox: the bench vacuums
 *   them itself between repetitions, so no size gets an autovacuum mid-sweep.
 *
 * Measurement: `runReminderSweep(deps, { escalateAfterWorkingDays: 3 })` with
 * the clock fixed at 2026-11-30T10:00Z (a Monday; London is on GMT), a silent
 * pino logger and a no-op `messagesQueued`, on a pool of 4 connections.
 * Before each repetition the due actions go back to stage 0, the outbox is
 * truncated and case_actions vacuumed (none of it timed). Then:
 * - the sweep (timed): it claims the D due actions, queues their messages and
 *   moves their stages; the messages it queues must be the same number at
 *   every size (asserted, against the number worked out from the directory);
 * - the idle sweep (timed, BENCH_IDLE times): the same call again with
 *   nothing behind, which is what runs every minute in production.
 * To spread the noise of whatever else runs on the machine evenly, the sizes
 * take turns within each round (the order rotating from round to round),
 * after BENCH_WARMUP untimed rounds.
 *
 * After the rounds, the claim query (the SQL src/db/repositories/reminders.ts
 * builds, captured from it, not copied) is EXPLAIN ANALYZEd at each size,
 * with actions due (inside a transaction rolled back) and idle; with
 * BENCH_PLANS=1, or on a MISS, the whole plans are printed.
 *
 * Environment (all optional):
 *   BENCH_DATABASE_URL   admin URL (default postgres://postgres@127.0.0.1:5432/postgres)
 *   BENCH_SIZES          open actions per size, comma separated (default 10000,100000,1000000)
 *   BENCH_DUE            actions due at every size (default 1000)
 *   BENCH_REPS           timed repetitions per size (default 7)
 *   BENCH_WARMUP         untimed rounds first (default 1)
 *   BENCH_IDLE           idle sweeps timed after each sweep (default 5)
 *   BENCH_RATIO          the largest allowed ratio to the smallest size (default 2)
 *   BENCH_PLANS=1        print the full claim plans
 *   BENCH_KEEP_DB=1      leave the databases behind (their URLs are printed)
 */
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { execFileSync } from 'node:child_process';
import postgres from 'postgres';
import pino from 'pino';
import type { SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import { openDatabase, type DatabaseHandle, type DatabaseOrTransaction } from '../src/db/client.js';
import { parseDirectory } from '../src/domain/directory.js';
import { isTrained } from '../src/domain/permissions.js';
import { demoDirectoryFile } from '../src/paths.js';
import { londonDate } from '../src/domain/time.js';
import { actionReminders, actionTargetStage, escalationCutoff, nextDay } from '../src/domain/reminders.js';
import { runReminderSweep } from '../src/app/reminders.js';
import * as remindersRepo from '../src/db/repositories/reminders.js';
import type { AppDeps } from '../src/app/context.js';
import { envNumber, lit, pick, f1, f2, procCpuMs, runBench } from './lib.js';

// ───────────────────────── settings ─────────────────────────

interface Settings {
  readonly adminUrl: string;
  readonly sizes: number[];
  readonly due: number;
  readonly reps: number;
  readonly warmup: number;
  readonly idle: number;
  readonly ratio: number;
  readonly plans: boolean;
  readonly keepDb: boolean;
}

function settings(): Settings {
  const num = (name: string, dflt: number, min = 1) => envNumber(name, dflt, min);
  const sizes = (process.env.BENCH_SIZES ?? '10000,100000,1000000').split(',').map((s) => Number(s.trim()));
  const due = Math.round(num('BENCH_DUE', 1000, 4));
  if (sizes.length < 2 || sizes.some((n) => !Number.isInteger(n) || n < 10)) throw new Error('BENCH_SIZES: two or more whole numbers ≥ 10, comma separated');
  for (let i = 1; i < sizes.length; i++) if (sizes[i]! <= sizes[i - 1]!) throw new Error('BENCH_SIZES must grow');
  if (sizes[0]! < due) throw new Error('BENCH_DUE must not exceed the smallest size');
  return {
    adminUrl: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    sizes,
    due,
    reps: Math.round(num('BENCH_REPS', 7)),
    warmup: Math.round(num('BENCH_WARMUP', 1, 0)),
    idle: Math.round(num('BENCH_IDLE', 5)),
    ratio: num('BENCH_RATIO', 2),
    plans: process.env.BENCH_PLANS === '1',
    keepDb: process.env.BENCH_KEEP_DB === '1',
  };
}

// ───────────────────────── the clock and the due dates ─────────────────────────

/** A Monday in November: London is on GMT, so this is 10:00 in London. */
const NOW = new Date('2026-11-30T10:00:00Z');
const ESCALATE_AFTER = 3;
const TODAY = londonDate(NOW);
const TOMORROW = nextDay(TODAY);
const CUTOFF = escalationCutoff(TODAY, ESCALATE_AFTER);

function prevDay(date: string): string {
  const d = new Date(`${date}T12:00:00Z`);
  d.setUTCDate(d.getUTCDate() - 1);
  return d.toISOString().slice(0, 10);
}

/** The D due dates: ¼ tomorrow, ¼ today, ¼ overdue but not yet escalated, ¼ overdue past the escalation cutoff. */
function dueDates(d: number): string[] {
  const overdue: string[] = [];
  for (let x = prevDay(TODAY); x > CUTOFF; x = prevDay(x)) overdue.push(x);
  const escalated: string[] = [];
  for (let x = CUTOFF, i = 0; i < 60; x = prevDay(x), i++) escalated.push(x);
  if (overdue.length === 0) throw new Error(`no date between the escalation cutoff ${CUTOFF} and today ${TODAY}`);
  return Array.from({ length: d }, (_, k) => {
    const q = Math.floor(k / 4);
    return [TOMORROW, TODAY, overdue[q % overdue.length]!, escalated[q % escalated.length]!][k % 4]!;
  });
}

// ───────────────────────── the data ─────────────────────────

/** The demo directory's officers (src/demo/directory.json). */
const MEGAN = '00000000-0000-0000-0000-0000000000021';
const ADELE = '00000000-0000-0000-0000-0000000000022';
const ISAIAH = '00000000-0000-0000-0000-0000000000023';

/** A non-negative pseudo-random number from an integer expression, the same on every run. */
const hash = (expr: string) => `(hashint4(${expr})::bigint & 2147483647)`;
const areaOf = (c: string) => `case when ${hash(c)} % 2 = 0 then 'northgate' else 'southbridge' end`;
const ownerOf = (c: string) => `case when ${hash(c)} / 2 % 2 = 0 then (case when ${hash(c)} % 2 = 0 then ${lit(MEGAN)} else ${lit(ADELE)} end) else ${lit(ISAIAH)} end`;
const actionTitles = ['Contact the school DSL', 'Arrange a home visit', 'Share panel minutes with partners', 'Review with the mentor', 'Check online activity with police', 'Book a consent meeting with parents', 'Refer to CAMHS'];
const concernTexts = [
  'Shared extremist videos with classmates and said violence was justified.',
  'Has been posting material from a proscribed group on social media.',
  'Family report a sudden change in behaviour and new associates met online.',
];

interface Load {
  readonly steps: Array<[string, number, number]>;
  readonly totalMs: number;
}

async function loadData(sql: postgres.Sql, n: number, dues: readonly string[]): Promise<Load> {
  const steps: Array<[string, number, number]> = [];
  const t0 = performance.now();
  const step = async (name: string, text: string) => {
    const t = performance.now();
    const r = await sql.unsafe(text);
    steps.push([name, r.count ?? 0, performance.now() - t]);
  };
  await sql.unsafe(`set synchronous_commit = off`);
  await sql.unsafe(`set maintenance_work_mem = '256MB'`);
  const casesN = Math.ceil(n / 10);
  const stride = Math.floor(n / dues.length);
  const now = `timestamptz ${lit(NOW.toISOString())}`;

  await step(
    'referrals',
    `insert into referrals (id, reference, pathway, draft_id, referrer_aad_object_id, area_id, status, answers, submitted_at, triage_due_on, triage_reminder_stage)
     select md5('referral:' || c)::uuid,
            'PRV-' || extract(year from submitted_at at time zone 'Europe/London') || '-' || lpad(c::text, 6, '0'),
            'prevent', md5('draft:' || c)::uuid,
            '00000000-0000-4000-8000-' || lpad((c % 2500)::text, 12, '0'),
            area, 'being_assessed',
            jsonb_build_object('danger', jsonb_build_object('immediateDanger', 'no'),
                               'aboutPerson', jsonb_build_object('firstName', 'Person', 'lastName', 'No ' || c, 'area', area),
                               'concern', jsonb_build_object('whatSeenOrHeard', ${pick(concernTexts, 'c')})),
            submitted_at, (submitted_at at time zone 'Europe/London')::date + 7, 2
     from (select c, ${areaOf('c')} as area, ${now} - (1 + ${hash('c')} % 1095) * interval '1 day' - (c % 1440) * interval '1 minute' as submitted_at
           from generate_series(1, ${casesN}) as c) g
     order by c`,
  );
  await step(
    'cases',
    `insert into cases (id, referral_id, area_id, owner_aad_object_id, kind, status, opened_at, last_activity_at)
     select md5('case:' || c)::uuid, md5('referral:' || c)::uuid, ${areaOf('c')}, ${ownerOf('c')},
            case when c % 5 = 0 then 'police_led' else 'channel' end, 'open', opened_at, opened_at + interval '14 days'
     from (select c, ${now} - (1 + ${hash('c')} % 1000) * interval '1 day' as opened_at from generate_series(1, ${casesN}) as c) g
     order by c`,
  );
  await step(
    'case_actions',
    `insert into case_actions (id, case_id, kind, title, owner_aad_object_id, due_on, status, reminder_stage, created_at)
     select md5('action:' || j)::uuid, md5('case:' || c)::uuid, 'officer', ${pick(actionTitles, 'j')}, ${ownerOf('c')},
            case when (j - 1) % ${stride} = 0 and (j - 1) / ${stride} < ${dues.length}
                 then (${lit(`{${dues.join(',')}}`)}::date[])[(j - 1) / ${stride} + 1]
                 else date ${lit(nextDay(TOMORROW))} + (${hash('j')} % 730)::int end,
            'open', 0, ${now} - (1 + ${hash('c')} % 300) * interval '1 day'
     from (select j, (j - 1) / 10 + 1 as c from generate_series(1, ${n}) as j) g
     order by j`,
  );
  await step('vacuum analyze', `vacuum analyze`);
  // The bench vacuums these between repetitions itself; an autovacuum in the middle of one size's sweep would only add noise.
  await sql.unsafe(`alter table case_actions set (autovacuum_enabled = false)`);
  await sql.unsafe(`alter table outbox set (autovacuum_enabled = false)`);
  return { steps, totalMs: performance.now() - t0 };
}

// ───────────────────────── helpers ─────────────────────────

const label = (n: number) => (n >= 1e6 && n % 1e6 === 0 ? `${n / 1e6}M` : n >= 1e3 && n % 1e3 === 0 ? `${n / 1e3}k` : String(n));
const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length === 0 ? NaN : s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const min = (xs: readonly number[]) => Math.min(...xs);

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

let clockTicks = 100;
try {
  clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
} catch {
  /* keep 100 */
}

/** Busy and total CPU ms of the whole machine (Linux /proc), for how much else ran meanwhile. */
function machineCpu(): { busy: number; total: number } | undefined {
  try {
    const v = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const total = v.reduce((a, b) => a + b, 0);
    return { busy: ((total - (v[3] ?? 0) - (v[4] ?? 0)) * 1000) / clockTicks, total: (total * 1000) / clockTicks };
  } catch {
    return undefined;
  }
}


/** The SQL a repository function sends, captured from it (rendered by drizzle as it would be for postgres.js). */
async function captureSql(run: (db: DatabaseOrTransaction) => Promise<unknown>): Promise<{ text: string; params: unknown[] }> {
  let captured: SQL | undefined;
  const fake = {
    execute: async (q: SQL) => {
      captured = q;
      return [];
    },
  } as unknown as DatabaseOrTransaction;
  await run(fake);
  if (!captured) throw new Error('the repository sent no SQL');
  const q = new PgDialect().sqlToQuery(captured);
  return { text: q.sql, params: q.params };
}

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  'Rows Removed by Filter'?: number;
  'Shared Hit Blocks'?: number;
  'Shared Read Blocks'?: number;
  'Shared Dirtied Blocks'?: number;
  'Plan Rows'?: number;
  Plans?: PlanNode[];
}

function planSummary(node: PlanNode): string {
  const parts: string[] = [];
  const walk = (p: PlanNode) => {
    let t = p['Node Type'];
    if (p['Index Name']) t += ` ${p['Index Name']}`;
    else if (p['Relation Name']) t += ` ${p['Relation Name']}`;
    const rows = (p['Actual Rows'] ?? 0) * (p['Actual Loops'] ?? 1);
    t += ` (${rows}${p['Rows Removed by Filter'] ? `, −${p['Rows Removed by Filter'] * (p['Actual Loops'] ?? 1)} by filter` : ''}${p['Plan Rows'] !== undefined ? `, est ${p['Plan Rows']}` : ''})`;
    parts.push(t);
    for (const c of p.Plans ?? []) walk(c);
  };
  walk(node);
  return parts.join(' → ');
}

// ───────────────────────── one size ─────────────────────────

interface Size {
  readonly n: number;
  readonly label: string;
  readonly dbName: string;
  readonly dbUrl: string;
  created: boolean;
  handle?: DatabaseHandle;
  sql?: postgres.Sql;
  load?: Load;
  expected?: { queued: number; actions: number; stages: Map<number, number> };
  deps?: AppDeps;
  readonly sweepMs: number[];
  readonly idleMs: number[];
  readonly queued: number[];
  readonly problems: string[];
  dbSize?: string;
  /** The partial index the claim reads: rows and size. */
  index?: string;
}

/** Due actions back to stage 0, the outbox emptied, the table vacuumed: the state the load left, for the next sweep. */
async function reset(s: Size): Promise<void> {
  const sql = s.sql!;
  await sql.unsafe(`update case_actions set reminder_stage = 0 where due_on <= $1::date and reminder_stage <> 0`, [TOMORROW]);
  await sql.unsafe(`truncate outbox`);
  await sql.unsafe(`vacuum case_actions`);
}

async function sweepOnce(s: Size, timed: boolean, idleRuns: number): Promise<void> {
  const deps = s.deps!;
  const t0 = performance.now();
  const r = await runReminderSweep(deps, { escalateAfterWorkingDays: ESCALATE_AFTER });
  const ms = performance.now() - t0;
  const exp = s.expected!;
  if (r.queued !== exp.queued || r.actions !== exp.actions || r.triages !== 0 || r.digests !== 0) {
    s.problems.push(`sweep: ${JSON.stringify(r)}, expected ${exp.actions} actions and ${exp.queued} queued`);
  }
  if (timed) {
    s.sweepMs.push(ms);
    s.queued.push(r.queued);
  }
  for (let i = 0; i < idleRuns; i++) {
    const t1 = performance.now();
    const idle = await runReminderSweep(deps, { escalateAfterWorkingDays: ESCALATE_AFTER });
    const idleMs = performance.now() - t1;
    if (idle.queued !== 0 || idle.actions !== 0) s.problems.push(`idle sweep: ${JSON.stringify(idle)}, expected nothing`);
    if (timed) s.idleMs.push(idleMs);
  }
}

/** What the sweep left: outbox rows and stages, as expected. */
async function verify(s: Size): Promise<void> {
  const sql = s.sql!;
  const exp = s.expected!;
  const [o] = await sql<Array<{ n: number }>>`select count(*)::int as n from outbox`;
  if (o?.n !== exp.queued) s.problems.push(`outbox holds ${o?.n} rows, expected ${exp.queued}`);
  const stages = await sql<Array<{ stage: number; n: number }>>`
    select reminder_stage::int as stage, count(*)::int as n from case_actions where due_on <= ${TOMORROW}::date group by 1`;
  const got = new Map(stages.map((r) => [r.stage, r.n]));
  for (const [stage, n] of exp.stages) if (got.get(stage) !== n) s.problems.push(`${got.get(stage) ?? 0} due actions at stage ${stage}, expected ${n}`);
}

interface Explained {
  readonly state: string;
  readonly ms: number;
  readonly planningMs: number;
  readonly hit: number;
  readonly read: number;
  readonly dirtied: number;
  readonly summary: string;
  readonly text: string;
}

/** EXPLAIN ANALYZE inside a transaction rolled back (the claim locks its rows). `sql` has one connection, so a bare BEGIN is safe. */
async function explain(sql: postgres.Sql, q: { text: string; params: unknown[] }, state: string): Promise<Explained> {
  const params = q.params as never[];
  await sql.unsafe('begin');
  try {
    const [row] = await sql.unsafe(`explain (analyze, buffers, format json) ${q.text}`, params);
    const json = (row!['QUERY PLAN'] as Array<{ Plan: PlanNode; 'Execution Time': number; 'Planning Time': number }>)[0]!;
    await sql.unsafe('rollback');
    await sql.unsafe('begin');
    // The readable plan, from a second run.
    const rows = await sql.unsafe(`explain (analyze, buffers) ${q.text}`, params);
    return {
      state,
      ms: json['Execution Time'],
      planningMs: json['Planning Time'],
      hit: json.Plan['Shared Hit Blocks'] ?? 0,
      read: json.Plan['Shared Read Blocks'] ?? 0,
      dirtied: json.Plan['Shared Dirtied Blocks'] ?? 0,
      summary: planSummary(json.Plan),
      text: rows.map((r) => String(r['QUERY PLAN'])).join('\n'),
    };
  } finally {
    await sql.unsafe('rollback');
  }
}

// ───────────────────────── main ─────────────────────────

let cleanup: (() => Promise<void>) | undefined;

async function main(): Promise<void> {
  const s = settings();
  const [l1, l5, l15] = loadavg();
  console.log(
    `bench:sweep: the reminder sweep over ${s.sizes.map(label).join(', ')} open actions, ${s.due.toLocaleString('en-GB')} due at each; target: time flat (≤ ${s.ratio}× the ${label(s.sizes[0]!)} figure)`,
  );
  console.log(`machine: ${cpus().length} cores, load average ${f2(l1!)} ${f2(l5!)} ${f2(l15!)}`);
  console.log(`clock: ${NOW.toISOString()} (London ${TODAY}, tomorrow ${TOMORROW}; overdue by more than ${ESCALATE_AFTER} working days: due on or before ${CUTOFF})`);

  const directory = parseDirectory(readFileSync(demoDirectoryFile, 'utf8'), 'demo');
  const supervisors = (area: string) =>
    directory.caseWorkersOf(area).filter((p) => p.roles.includes('supervisor') && isTrained(directory.actor(p.aadObjectId, p.name), TODAY)).length;
  const dues = dueDates(s.due);
  const log = pino({ level: 'silent' });

  const admin = postgres(s.adminUrl, { max: 1, onnotice: () => {} });
  const sizes: Size[] = s.sizes.map((n) => {
    const dbName = `bench_sweep_${process.pid}_${label(n).toLowerCase()}`;
    const u = new URL(s.adminUrl);
    u.pathname = `/${dbName}`;
    return { n, label: label(n), dbName, dbUrl: u.toString(), created: false, sweepMs: [], idleMs: [], queued: [], problems: [] };
  });

  let cleaning: Promise<void> | undefined;
  cleanup = () =>
    (cleaning ??= (async () => {
      for (const z of sizes) {
        await z.handle?.close().catch(() => {});
        await z.sql?.end({ timeout: 5 }).catch(() => {});
        if (z.created && !s.keepDb) {
          await admin.unsafe(`drop database if exists ${z.dbName} with (force)`).catch((err: unknown) => console.error(`could not drop ${z.dbName}:`, err));
        }
      }
      await admin.end({ timeout: 5 }).catch(() => {});
    })());

  let failed = false;
  try {
    // ── load: one fresh database per size, side by side
    console.log(`\ndatabases: one fresh database per size (${sizes.map((z) => z.dbName).join(', ')}), migrated by openDatabase, all kept open while measuring${s.keepDb ? ', KEPT at the end' : ', dropped at the end'}`);
    for (const z of sizes) {
      await admin.unsafe(`create database ${z.dbName}`);
      z.created = true;
      z.handle = await openDatabase({ databaseUrl: z.dbUrl, pgliteDataDir: 'unused', poolSize: 4 });
      z.sql = postgres(z.dbUrl, { max: 1, onnotice: () => {} });
      process.stdout.write(`  ${z.label}: loading ${z.n.toLocaleString('en-GB')} actions … `);
      z.load = await loadData(z.sql, z.n, dues);
      console.log(`${f1(z.load.totalMs / 1000)} s (${z.load.steps.map(([name, , ms]) => `${name} ${f1(ms / 1000)}`).join(', ')})`);
      const [sz] = await z.sql<Array<{ size: string }>>`select pg_size_pretty(pg_database_size(current_database())) as size`;
      z.dbSize = sz?.size;

      // What the sweep should do here, worked out from the rows due and the directory.
      const due = await z.sql<Array<{ due_on: string; area_id: string }>>`
        select a.due_on::text as due_on, c.area_id from case_actions a join cases c on c.id = a.case_id where a.due_on <= ${TOMORROW}::date`;
      let queued = 0;
      const stages = new Map<number, number>();
      for (const r of due) {
        const target = actionTargetStage(r.due_on, TODAY, ESCALATE_AFTER);
        const send = actionReminders(0, target);
        queued += (send.owner ? 1 : 0) + (send.supervisors ? supervisors(r.area_id) : 0);
        stages.set(target, (stages.get(target) ?? 0) + 1);
      }
      z.expected = { queued, actions: due.length, stages };
      z.deps = { db: z.handle.db, directory, now: () => NOW, log, messagesQueued: () => {} };
    }
    await admin.unsafe(`checkpoint`);
    const mix = sizes[0]!.expected!.stages;
    console.log(
      `due at each size: ${sizes[0]!.expected!.actions} actions (stage to reach: ${[...mix.entries()].sort(([a], [b]) => a - b).map(([st, n]) => `${n} → ${st}`).join(', ')}), ${sizes[0]!.expected!.queued} messages to queue`,
    );
    for (const z of sizes) {
      if (z.expected!.actions !== s.due) z.problems.push(`${z.expected!.actions} actions due after loading, expected ${s.due}`);
      if (z.expected!.queued !== sizes[0]!.expected!.queued) z.problems.push(`expects ${z.expected!.queued} messages, ${sizes[0]!.label} expects ${sizes[0]!.expected!.queued}`);
    }

    // ── measure: the sizes take turns in each round
    console.log(`\nrounds: ${s.warmup} warm-up + ${s.reps} timed; in each, per size (order rotating): reset (untimed), sweep, ${s.idle} idle sweeps`);
    const pgPids = async () =>
      (
        await admin<Array<{ pid: number }>>`select pid from pg_stat_activity where datname in ${admin(sizes.map((z) => z.dbName))}
          or backend_type in ('walwriter', 'checkpointer', 'background writer')`
      ).map((r) => r.pid);
    let m0: ReturnType<typeof machineCpu>;
    let own0 = 0;
    let pg0 = new Map<number, number>();
    let measuredMs = 0;
    const rounds = s.warmup + s.reps;
    for (let r = 0; r < rounds; r++) {
      const timed = r >= s.warmup;
      if (r === s.warmup) {
        m0 = machineCpu();
        const u = process.cpuUsage();
        own0 = (u.user + u.system) / 1000;
        pg0 = new Map((await pgPids()).map((p) => [p, procCpuMs(p) ?? 0]));
      }
      const order = sizes.map((_, i) => sizes[(i + r) % sizes.length]!);
      for (const z of order) {
        await reset(z);
        const t = performance.now();
        await sweepOnce(z, timed, s.idle);
        if (timed) measuredMs += performance.now() - t;
        await verify(z);
      }
      process.stdout.write(timed ? `  round ${r - s.warmup + 1}/${s.reps}: ${sizes.map((z) => `${z.label} ${f1(z.sweepMs.at(-1)!)} ms`).join(', ')}\n` : `  warm-up round done\n`);
    }
    // CPU over the measurement phase (resets and vacuums included): how busy the rest of the machine was.
    const m1 = machineCpu();
    const u1 = process.cpuUsage();
    const own = (u1.user + u1.system) / 1000 - own0;
    let pg = 0;
    for (const p of await pgPids()) pg += (procCpuMs(p) ?? 0) - (pg0.get(p) ?? 0);
    let otherCores = NaN;
    if (m0 && m1) {
      const wallMs = (m1.total - m0.total) / cpus().length;
      otherCores = Math.max(0, (m1.busy - m0.busy - own - pg) / wallMs);
    }

    // ── the claim query at each size
    const claim = await captureSql((db) => remindersRepo.claimActionsToRemind(db, { today: TODAY, tomorrow: TOMORROW, escalateOnOrBefore: CUTOFF }, 500));
    const triageClaim = await captureSql((db) => remindersRepo.claimTriagesToRemind(db, TODAY, 500));
    const heldClaim = await captureSql((db) => remindersRepo.claimHeldDue(db, NOW, 500));
    const plans = new Map<Size, Explained[]>();
    for (const z of sizes) {
      await reset(z);
      const pending = await explain(z.sql!, claim, 'due');
      await sweepOnce(z, false, 0);
      await verify(z);
      const idle = await explain(z.sql!, claim, 'idle');
      const idle2 = await explain(z.sql!, claim, 'idle again');
      const triage = await explain(z.sql!, triageClaim, 'idle: triage claim');
      const held = await explain(z.sql!, heldClaim, 'idle: digest claim');
      const [ix] = await z.sql!<Array<{ entries: number; size: string }>>`
        select (select count(*)::int from case_actions where status = 'open' and reminder_stage < 4) as entries,
               pg_size_pretty(pg_relation_size('case_actions_remind_idx')) as size`;
      const [far] = await z.sql!<Array<{ n: number }>>`select count(*)::int as n from case_actions where due_on > ${TOMORROW}::date and reminder_stage <> 0`;
      if (far?.n !== 0) z.problems.push(`${far?.n} actions not yet due have moved stage`);
      plans.set(z, [pending, idle, idle2, triage, held]);
      z.index = `${ix?.entries.toLocaleString('en-GB')} rows, ${ix?.size}`;
    }

    // ── report
    console.log(`\nresults (${s.reps} timed repetitions per size; idle: ${s.reps * s.idle} per size)`);
    console.log(
      table(
        ['open actions', 'database', 'load s', 'sweep median ms', 'sweep min ms', 'ms per due action', 'idle median ms', 'idle min ms', 'messages queued'],
        sizes.map((z) => [
          z.n.toLocaleString('en-GB'),
          z.dbSize ?? '',
          f1(z.load!.totalMs / 1000),
          f1(median(z.sweepMs)),
          f1(min(z.sweepMs)),
          f2(median(z.sweepMs) / s.due),
          f2(median(z.idleMs)),
          f2(min(z.idleMs)),
          [...new Set(z.queued)].join('/'),
        ]),
      ),
    );
    console.log(`other processes on the machine during the rounds: ${f2(otherCores)} cores on average (of ${cpus().length})`);

    const base = sizes[0]!;
    const rrows: string[][] = [];
    let missed = false;
    for (const z of sizes.slice(1)) {
      const sweep = median(z.sweepMs) / median(base.sweepMs);
      const idle = median(z.idleMs) / median(base.idleMs);
      const ok = (x: number) => (x <= s.ratio ? 'PASS' : 'MISS');
      if (sweep > s.ratio || idle > s.ratio) missed = true;
      rrows.push([
        `${z.label}/${base.label}`,
        `${f2(sweep)}× ${ok(sweep)}`,
        f2(min(z.sweepMs) / min(base.sweepMs)) + '×',
        `${f2(idle)}× ${ok(idle)}`,
        f2(min(z.idleMs) / min(base.idleMs)) + '×',
      ]);
    }
    console.log(`\nratios to ${base.label} (target ≤ ${s.ratio}×, on the medians)`);
    console.log(table(['sizes', 'sweep (median)', 'sweep (min)', 'idle sweep (median)', 'idle (min)'], rrows.reverse()));

    console.log(`\nthe claim query (claimActionsToRemind, as src/db/repositories/reminders.ts sends it), EXPLAIN (ANALYZE, BUFFERS); "due": before a sweep (rolled back), "idle": after it`);
    const prow: string[][] = [];
    for (const z of sizes) {
      for (const e of plans.get(z)!) prow.push([z.label, e.state, f2(e.planningMs), f2(e.ms), String(e.hit), String(e.read), String(e.dirtied)]);
    }
    console.log(table(['size', 'state', 'plan ms', 'exec ms', 'buffers hit', 'read', 'dirtied'], prow));
    console.log('plans (actual rows, the planner\'s estimate):');
    for (const z of sizes) {
      for (const e of plans.get(z)!) console.log(`  ${z.label} ${e.state}: ${e.summary}`);
    }
    console.log(`partial index case_actions_remind_idx (open, stage < 4): ${sizes.map((z) => `${z.label}: ${z.index}`).join('; ')}`);
    if (s.plans || missed) {
      for (const z of sizes) {
        for (const e of plans.get(z)!.slice(0, 2)) console.log(`\n${z.label}, ${e.state}:\n${e.text}`);
      }
    }

    console.log('\nchecks');
    const queuedAll = new Set(sizes.flatMap((z) => z.queued));
    const sameQueued = queuedAll.size === 1;
    console.log(`  messages queued per sweep: ${[...queuedAll].join(', ')} at every size (must be one number, ${base.expected!.queued}) → ${sameQueued ? 'ok' : 'MISMATCH'}`);
    let problems = sameQueued ? 0 : 1;
    for (const z of sizes) {
      const uniq = [...new Set(z.problems)];
      problems += uniq.length;
      for (const p of uniq.slice(0, 10)) console.log(`  ${z.label}: ${p}`);
    }
    console.log(`  stages and outbox rows after every sweep as expected: ${problems === 0 ? 'yes' : 'NO'}`);
    if (otherCores > 0.3) console.log(`\nwarning: other processes used ${f2(otherCores)} cores meanwhile; the figures are noisy (the sizes took turns, so the ratios less so)`);
    console.log(missed ? `\nMISS: not flat within ${s.ratio}×` : `\nPASS: flat within ${s.ratio}× from ${base.label} to ${sizes.at(-1)!.label}`);
    if (missed || problems > 0) failed = true;
  } finally {
    await cleanup();
    console.log(`\ncleaned up: ${s.keepDb ? `databases KEPT: ${sizes.filter((z) => z.created).map((z) => z.dbUrl).join(' ')}` : `databases ${sizes.filter((z) => z.created).map((z) => z.dbName).join(', ')} dropped`}`);
  }
  if (failed) process.exitCode = 1;
}

await runBench('bench:sweep', main, { cleanup: () => cleanup, onSignal: 'dropping the databases' });
