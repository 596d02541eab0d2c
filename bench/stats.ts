/**
 * A financial year's statistics over 1M referrals on PostgreSQL: must take
 * under 0.5 s (DESIGN §12: "Statistics for a year over 1M referrals: < 0.5 s
 * on Postgres").
 *
 *   node --import tsx bench/stats.ts          (npm run bench:stats)
 *
 * Database: a fresh one (bench_stats_<pid>), created and migrated through
 * the service's own `openDatabase`, loaded with set-based SQL (`insert …
 * select … from generate_series`) and dropped at the end (also on an error,
 * SIGINT or SIGTERM; only a SIGKILL leaves it behind).
 *
 * Data (deterministic: spreads come from hashint4): BENCH_ROWS (default
 * 1,000,000) de-identified records over the 10 financial years 2016–2025,
 * the same number each year, in the order they would have been written;
 * sector, type of concern, age band and gender skewed as in the Home Office
 * figures; 15 areas (the demo directory's 3 and 12 more); outcomes mostly no
 * further action, 12% to the Channel panel (45% of those adopted), and 5%
 * still awaiting assessment; no link to a referral (all purged, as years
 * that old would be). Then VACUUM ANALYZE and a CHECKPOINT.
 *
 * Measured, side by side in each round, after BENCH_WARMUP untimed rounds:
 * - baseline: `select count(*) from referral_statistics where pathway = $1
 *   and financial_year = $2`, the least a year's statistics can cost (one
 *   pass over the year's rows through the same index);
 * - query: `countYears` from src/db/repositories/statistics.ts, the
 *   repository function the bot calls (the year and the year before, every
 *   table, one statement);
 * - full statistics: what `stats` does before drawing the card — the same
 *   query plus suppression and the report (`buildReport`): the target;
 * - the chart and the card (vega + resvg, then the template), reported apart:
 *   cold (the first, which loads vega) and warm.
 * The year timed is BENCH_YEAR (default 2025, the latest complete year).
 *
 * Prints p50 and p99 per measure, the ratio of each to the baseline, the
 * statement's EXPLAIN (ANALYZE, BUFFERS), and PASS/MISS against 0.5 s on the
 * full statistics' p99 (exits 1 on a MISS).
 *
 * Environment (all optional):
 *   BENCH_DATABASE_URL   admin URL (default DATABASE_URL, else postgres://postgres@127.0.0.1:5432/postgres)
 *   BENCH_ROWS           records in all (default 1000000)
 *   BENCH_YEAR           the financial year timed (default 2025)
 *   BENCH_REPS           timed rounds (default 30)
 *   BENCH_WARMUP         untimed rounds first (default 3)
 *   BENCH_TARGET_MS      the limit for the full statistics (default 500)
 *   BENCH_KEEP_DB=1      leave the database behind (its URL is printed)
 */
import { cpus, loadavg } from 'node:os';
import { readFileSync } from 'node:fs';
import postgres from 'postgres';
import pino from 'pino';
import { sql as drizzleSql, type SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import { openDatabase, type DatabaseHandle, type DatabaseOrTransaction } from '../src/db/client.js';
import { countYears } from '../src/db/repositories/statistics.js';
import { buildReport } from '../src/domain/statistics.js';
import { parseDirectory } from '../src/domain/directory.js';
import { preventPathway } from '../src/forms/prevent.js';
import { demoDirectoryFile } from '../src/paths.js';
import { translator } from '../src/i18n/catalogue.js';
import { statisticsCard } from '../src/bot/statistics-view.js';
import { envNumber, lit, f1, f2, percentile, runBench, table } from './lib.js';

const YEARS = 10;
const FIRST_YEAR = 2016;

function settings() {
  const num = (name: string, dflt: number, min = 1) => envNumber(name, dflt, min);
  const year = Math.round(num('BENCH_YEAR', 2025, FIRST_YEAR));
  if (year >= FIRST_YEAR + YEARS) throw new Error(`BENCH_YEAR must be from ${FIRST_YEAR} to ${FIRST_YEAR + YEARS - 1}`);
  return {
    adminUrl: process.env.BENCH_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    rows: Math.round(num('BENCH_ROWS', 1_000_000, YEARS)),
    year,
    reps: Math.round(num('BENCH_REPS', 30)),
    warmup: Math.round(num('BENCH_WARMUP', 3, 0)),
    targetMs: num('BENCH_TARGET_MS', 500),
    keepDb: process.env.BENCH_KEEP_DB === '1',
  };
}

// ───────────────────────── the data ─────────────────────────

/** A non-negative pseudo-random number from an integer expression, the same on every run. */
const hash = (expr: string, salt: number) => `(hashint4((${expr}) * 16 + ${salt})::bigint & 2147483647)`;
/** A category by cumulative weights (per thousand). */
function weighted(values: ReadonlyArray<readonly [string | null, number]>, expr: string, salt: number): string {
  let acc = 0;
  const h = `(${hash(expr, salt)} % 1000)`;
  const arms = values.map(([v, w]) => {
    acc += w;
    return `when ${h} < ${acc} then ${v === null ? 'null' : lit(v)}`;
  });
  if (acc !== 1000) throw new Error(`weights add up to ${acc}, not 1000`);
  return `(case ${arms.join(' ')} end)`;
}

const sectors = [['education', 360], ['police', 290], ['localAuthority', 80], ['health', 100], ['socialCare', 40], ['communityFaith', 30], ['familyFriend', 50], ['other', 50]] as const;
const concerns = [['islamist', 130], ['extremeRightWing', 200], ['leftWingAnarchistSingleIssue', 20], ['conflicted', 230], ['noIdeologyOrCtRisk', 330], ['schoolMassacre', 20], ['incel', 20], ['otherUnclear', 50]] as const;
const ages = [['under15', 380], ['15to17', 190], ['18to20', 90], ['21to30', 140], ['31to40', 90], ['41plus', 90], ['unknown', 20]] as const;
const genders = [['male', 880], ['female', 100], ['other', 5], ['notKnown', 15]] as const;
const areas = ['northgate', 'southbridge', 'eastfield', ...Array.from({ length: 12 }, (_, i) => `area-${String(i + 1).padStart(2, '0')}`)];
const outcomes = [['no_further_action', 580], ['signposted', 200], ['channel', 120], ['police_led', 40], ['ct_policing', 10], [null, 50]] as const;

async function load(sql: postgres.Sql, n: number): Promise<number> {
  const t0 = performance.now();
  await sql.unsafe(`set synchronous_commit = off`);
  await sql.unsafe(`set maintenance_work_mem = '256MB'`);
  const perYear = Math.floor(n / YEARS);
  // Rows in the order they were written (year by year), as the table grows in production.
  await sql.unsafe(
    `insert into referral_statistics (id, referral_id, pathway, financial_year, sector, concern_type, age_band, gender, area_id, outcome, channel_adopted)
     select md5('stat:' || g)::uuid, null, 'prevent', ${FIRST_YEAR} + least(${YEARS - 1}, (g - 1) / ${perYear}),
            ${weighted(sectors, 'g', 1)}, ${weighted(concerns, 'g', 2)}, ${weighted(ages, 'g', 3)}, ${weighted(genders, 'g', 4)},
            (array[${areas.map(lit).join(', ')}])[1 + ${hash('g', 5)} % ${areas.length}],
            o.outcome, o.outcome is not distinct from 'channel' and ${hash('g', 7)} % 100 < 45
     from generate_series(1, ${n}) as g, lateral (select ${weighted(outcomes, 'g', 6)} as outcome) o`,
  );
  await sql.unsafe(`vacuum analyze referral_statistics`);
  return performance.now() - t0;
}

// ───────────────────────── helpers ─────────────────────────

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

const stats = (xs: readonly number[]) => {
  const s = Float64Array.from(xs).sort();
  return { p50: percentile(s, 0.5), p99: percentile(s, 0.99), min: s[0] ?? NaN };
};

async function time<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t = performance.now();
  const r = await fn();
  return [performance.now() - t, r];
}

// ───────────────────────── main ─────────────────────────

let cleanup: (() => Promise<void>) | undefined;

async function main(): Promise<void> {
  const s = settings();
  const [l1, l5, l15] = loadavg();
  console.log(`bench:stats: one financial year's statistics over ${s.rows.toLocaleString('en-GB')} referrals in ${YEARS} years on PostgreSQL; target: full statistics p99 < ${s.targetMs} ms`);
  console.log(`machine: ${cpus().length} cores, load average ${f2(l1!)} ${f2(l5!)} ${f2(l15!)}`);

  const admin = postgres(s.adminUrl, { max: 1, onnotice: () => {} });
  const dbName = `bench_stats_${process.pid}`;
  const u = new URL(s.adminUrl);
  u.pathname = `/${dbName}`;
  const dbUrl = u.toString();
  let created = false;
  let handle: DatabaseHandle | undefined;
  let sql: postgres.Sql | undefined;
  let cleaning: Promise<void> | undefined;
  cleanup = () =>
    (cleaning ??= (async () => {
      await handle?.close().catch(() => {});
      await sql?.end({ timeout: 5 }).catch(() => {});
      if (created && !s.keepDb) await admin.unsafe(`drop database if exists ${dbName} with (force)`).catch((err: unknown) => console.error(`could not drop ${dbName}:`, err));
      await admin.end({ timeout: 5 }).catch(() => {});
    })());

  let failed = false;
  try {
    await admin.unsafe(`create database ${dbName}`);
    created = true;
    handle = await openDatabase({ databaseUrl: dbUrl, pgliteDataDir: 'unused', poolSize: 4 });
    sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
    process.stdout.write(`\ndatabase ${dbName}: loading ${s.rows.toLocaleString('en-GB')} records … `);
    const loadMs = await load(sql, s.rows);
    await admin.unsafe('checkpoint');
    const [info] = await sql<Array<{ table: string; index: string; year: number }>>`
      select pg_size_pretty(pg_table_size('referral_statistics')) as table,
             pg_size_pretty(pg_relation_size('referral_statistics_year_idx')) as index,
             (select count(*)::int from referral_statistics where financial_year = ${s.year}) as year`;
    console.log(`${f1(loadMs / 1000)} s; table ${info!.table}, index (pathway, financial_year) ${info!.index}; ${info!.year.toLocaleString('en-GB')} records in ${s.year}/${(s.year + 1) % 100}`);

    const db = handle.db;
    const directory = parseDirectory(readFileSync(demoDirectoryFile, 'utf8'), 'demo');
    const query = { pathway: 'prevent', from: s.year - 1, to: s.year, adoptedOutcome: preventPathway.statisticsFields.adopted.outcome };
    const baseline = () => db.execute(sqlCount(s.year));
    const repository = () => countYears(db, query);
    const full = async () => {
      const counts = await countYears(db, query);
      return buildReport({
        pathway: preventPathway,
        year: s.year,
        today: '2026-11-27',
        areaIds: directory.areas.map((a) => a.id),
        counts: counts.get(s.year)!,
        previous: counts.get(s.year - 1)!,
      });
    };
    const v = { t: translator('en-GB'), directory, today: '2026-11-27' };
    const log = pino({ level: 'silent' });

    // What the report says, once: the counts it was built from must add up.
    const check = (await repository()).get(s.year)!;
    const problems: string[] = [];
    for (const [d, m] of Object.entries(check.by)) {
      const sum = [...m.values()].reduce((a, c) => a + c, 0);
      if (sum !== check.total) problems.push(`${d} adds up to ${sum}, not ${check.total}`);
    }
    if (check.total !== info!.year) problems.push(`total ${check.total}, but ${info!.year} records in the year`);

    // The card: the first one loads vega (cold), then warm.
    const report = await full();
    const [coldMs] = await time(() => statisticsCard(v, report, { log }));
    const warm: number[] = [];
    for (let i = 0; i < 5; i++) warm.push((await time(() => statisticsCard(v, report, { log })))[0]);

    const samples = { baseline: [] as number[], repository: [] as number[], full: [] as number[] };
    console.log(`\nrounds: ${s.warmup} warm-up + ${s.reps} timed; in each, in turn: baseline, query, full statistics`);
    for (let r = 0; r < s.warmup + s.reps; r++) {
      const timed = r >= s.warmup;
      const [b] = await time(baseline);
      const [q] = await time(repository);
      const [f] = await time(full);
      if (timed) {
        samples.baseline.push(b);
        samples.repository.push(q);
        samples.full.push(f);
      }
    }

    const b = stats(samples.baseline);
    const rows = (['baseline', 'repository', 'full'] as const).map((k) => {
      const x = stats(samples[k]);
      const name = { baseline: 'baseline: count(*) of the year', repository: 'query: countYears (2 years, every table)', full: 'full statistics: query + suppression + report' }[k];
      return [name, f1(x.p50), f1(x.p99), f1(x.min), `${f2(x.p50 / b.p50)}×`];
    });
    console.log(`\nresults (${s.reps} timed rounds)`);
    console.log(table(['measure', 'p50 ms', 'p99 ms', 'min ms', 'p50 / baseline'], rows));
    console.log(`card with chart (vega + resvg + template): cold ${f1(coldMs)} ms (loads vega), warm p50 ${f1(stats(warm).p50)} ms`);

    const q = await captureSql((fake) => countYears(fake, query));
    const plan = (await sql.unsafe(`explain (analyze, buffers) ${q.text}`, q.params as never[])).map((r) => String(r['QUERY PLAN'])).join('\n');
    console.log(`\nthe statement (countYears, as src/db/repositories/statistics.ts sends it), EXPLAIN (ANALYZE, BUFFERS):\n${plan}`);

    const f = stats(samples.full);
    const pass = f.p99 < s.targetMs && problems.length === 0;
    for (const p of problems) console.log(`problem: ${p}`);
    console.log(`\n${pass ? 'PASS' : 'MISS'}: full statistics for ${s.year}/${(s.year + 1) % 100} over ${s.rows.toLocaleString('en-GB')} referrals: p50 ${f1(f.p50)} ms, p99 ${f1(f.p99)} ms (target < ${s.targetMs} ms; baseline count(*) p50 ${f1(b.p50)} ms)`);
    if (!pass) failed = true;
  } finally {
    await cleanup();
    console.log(`\ncleaned up: ${s.keepDb ? `database KEPT: ${dbUrl}` : `database ${dbName} dropped`}`);
  }
  if (failed) process.exitCode = 1;
}

/** The baseline statement. */
function sqlCount(year: number): SQL {
  return drizzleSql`select count(*) from referral_statistics where pathway = ${'prevent'} and financial_year = ${year}`;
}

await runBench('bench:stats', main, { cleanup: () => cleanup, onSignal: 'dropping the database' });
