/**
 * `queue` and `case <REF>` on a realistically sized PostgreSQL database,
 * against a bare node:http handler that parses the JSON and does one indexed
 * SELECT, in one run. Target: p99 ≤ 50 ms for both commands.
 *
 *   node --import tsx bench/case.ts          (npm run bench:case)
 *
 * Data (set-based SQL, `insert … select … from generate_series`), in a fresh
 * database migrated through openDatabase and dropped at the end:
 * - 100,000 Prevent referrals over the last ten years, alternately Northgate
 *   and Southbridge, references PRV-YYYY-NNNNNN numbered per London year (and
 *   the reference_counters row of each year, so a later submit continues the
 *   numbering); the newest 2,000 of each area are still `received` (the
 *   queue), the rest triaged: one triage_assessments row each;
 * - 20,000 cases (the triaged referrals with a Channel or police-led outcome),
 *   open when opened in the last 18 months, owned by Megan or Isaiah
 *   (Northgate) and Adele or Isaiah (Southbridge); per case 11–12 chronology
 *   entries (opened, consent, vulnerability ×2, intervention and its review,
 *   notes, actions, closed) shaped like the case forms, and 3 actions (the
 *   first done, the other two open on open cases);
 * - then VACUUM ANALYZE (what autovacuum would have done by then).
 *
 * Processes:
 * - this one, the load generator: N concurrent clients, all Megan Bowen
 *   (officer, Northgate) in her personal chat, over node:http with a
 *   keep-alive Agent; and the fake Bot Connector the bot POSTs its replies to
 *   (it keeps each reply under the id of the activity it answers, and the
 *   client checks it: the queue card with "of more than 500", the case card with the
 *   reference asked for);
 * - the bot: `node --import tsx src/index.ts`, a child process on that database;
 * - the baseline: this file again as a child (BENCH_ROLE=baseline), a bare
 *   node:http server that parses the body, takes the reference out of the
 *   text and runs `select id, reference from referrals where reference = $1`
 *   (postgres.js, same database, same pool size); 404 if no row.
 *
 * Before anything is measured, Megan says `queue` once (so she has a stored
 * conversation and is reachable, as an officer who uses the bot is) and the
 * bot is left until its own start-up work on the loaded backlog (the
 * reminder sweep, the outbox deliveries) has quietened: under 0.1 core over
 * 2 s. Proactive messages it still sends during the runs are counted.
 *
 * Targets, per concurrency level: `baseline` (the `case <REF>` bodies),
 * `queue` (Megan types `queue`) and `case` (`case <REF>` for one of 500
 * Northgate references with a case, drawn at random up front). To spread the
 * noise of whatever else runs on the machine evenly, each level runs in
 * rounds, baseline → queue → case in each round, each segment after a short
 * warm-up; a request counts when it was sent after its segment's warm-up.
 *
 * While measuring, pg_stat_activity is sampled every 25 ms: how many of the
 * bench database's backends are running, waiting on a lock or the WAL, or
 * idle in a transaction (waiting for the bot), on average. After the runs
 * each SQL statement that `queue` and `case` make is EXPLAIN ANALYZEd with
 * sample values written in (drizzle sends unnamed statements, planned for
 * their values each time); a slow one, or one with a sequential scan of a
 * table of 1,000 rows or more, has its plan printed.
 *
 * Environment (all optional):
 *   BENCH_DATABASE_URL   admin URL (default postgres://postgres@127.0.0.1:5432/postgres)
 *   BENCH_CLIENTS        concurrency levels, comma separated (default 4,16)
 *   BENCH_REQUESTS       measured requests per target and level (default 3000)
 *   BENCH_ROUNDS         rounds the requests are split into (default 3)
 *   BENCH_WARMUP         warm-up requests before each segment (default 150)
 *   BENCH_TARGET_MS      the p99 target (default 50)
 *   BENCH_REFERRALS      referrals to load (default 100000; cases come out at ~20%)
 *   BENCH_QUEUE          untriaged referrals per area (default 2000)
 *   BENCH_POOL_SIZE      postgres.js pool of the bot and of the baseline (default 2 × cores + 1, as bench:submit)
 *   BENCH_EXPLAIN_MS     print the plan of a statement slower than this (default 2)
 *   BENCH_SETTLE_S       longest wait for the bot's start-up background work to finish (default 120)
 *   BENCH_CPU_PROF_DIR   run the bot child with --cpu-prof into this folder (prints each bot segment's window)
 *   BENCH_LOG_DIR        where the children's stdout/stderr go (default a new folder in /tmp)
 *   BENCH_KEEP_DB=1      leave the database behind (its URL is printed) to EXPLAIN by hand
 *
 * CPU columns (Linux /proc, measured segments): the server child, the
 * Postgres backends of the bench database plus the WAL writer and
 * checkpointer, this process, and "other procs": whatever else ran on the
 * machine meanwhile (above 0.2 cores a warning is printed).
 *
 * Profiling the bot: BENCH_CPU_PROF_DIR=/tmp/sgd-prof BENCH_CLIENTS=4 BENCH_ROUNDS=1
 * prints each bot segment's measured window in monotonic µs; then
 *   node --import tsx bench/cpuprofile-summary.ts /tmp/sgd-prof/CPU.*.0.001.cpuprofile --from A --to B --turns N
 *
 * Children are stopped on exit, error, SIGINT and SIGTERM, and exit by
 * themselves if this process dies; only a SIGKILL of this process leaves the
 * bench_case_* database behind.
 */
import { createServer, Agent, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import postgres from 'postgres';
import { openDatabase } from '../src/db/client.js';
import { envNumber, lit, pick, serveBaseline, runBench, children, startChild, tail, stopChild, clockTicks, procCpuMs, cpuSnapshot, post, percentile, f1, f2, f3, table, type PgPids, type CpuSnapshot, type HttpResult } from './lib.js';

const thisFile = fileURLToPath(import.meta.url);

/** Finds the reference in `case PRV-2024-000123`. */
const REFERENCE = /[A-Z]{2,5}-\d{4}-\d{4,6}/;

// ───────────────────────── baseline server (child role) ─────────────────────────

/** The bare handler: finds the referral the message names, one SELECT. */
const runBaselineServer = () =>
  serveBaseline(async (sql, a) => {
    const reference = REFERENCE.exec(String(a.text))?.[0] ?? '';
    const rows = await sql`select id, reference from referrals where reference = ${reference}`;
    return rows.length === 1 ? 200 : 404;
  });

// ───────────────────────── settings ─────────────────────────

interface Settings {
  readonly adminUrl: string;
  readonly levels: number[];
  readonly requests: number;
  readonly rounds: number;
  readonly warmup: number;
  readonly targetMs: number;
  readonly referrals: number;
  readonly queuePerArea: number;
  readonly poolSize: number;
  readonly explainMs: number;
  readonly settleS: number;
  readonly keepDb: boolean;
  readonly cpuProfDir?: string | undefined;
  readonly logDir: string;
}

function settings(): Settings {
  const num = (name: string, dflt: number, min = 1) => envNumber(name, dflt, min);
  const levels = (process.env.BENCH_CLIENTS ?? '4,16').split(',').map((s) => Number(s.trim()));
  if (levels.some((n) => !Number.isInteger(n) || n < 1)) throw new Error('BENCH_CLIENTS must be positive integers, comma separated');
  const referrals = Math.round(num('BENCH_REFERRALS', 100_000, 1000));
  const queuePerArea = Math.round(num('BENCH_QUEUE', 2000, 1));
  if (2 * queuePerArea >= referrals) throw new Error('BENCH_QUEUE must leave triaged referrals (2 × BENCH_QUEUE < BENCH_REFERRALS)');
  const logDir = process.env.BENCH_LOG_DIR ?? mkdtempSync(join(tmpdir(), 'sgd-bench-case-'));
  mkdirSync(logDir, { recursive: true });
  return {
    adminUrl: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    levels,
    requests: Math.round(num('BENCH_REQUESTS', 3000)),
    rounds: Math.round(num('BENCH_ROUNDS', 3)),
    warmup: Math.round(num('BENCH_WARMUP', 150, 0)),
    targetMs: num('BENCH_TARGET_MS', 50),
    referrals,
    queuePerArea,
    poolSize: num('BENCH_POOL_SIZE', 2 * cpus().length + 1),
    explainMs: num('BENCH_EXPLAIN_MS', 2, 0),
    settleS: num('BENCH_SETTLE_S', 120, 0),
    keepDb: process.env.BENCH_KEEP_DB === '1',
    cpuProfDir: process.env.BENCH_CPU_PROF_DIR || undefined,
    logDir,
  };
}

// ───────────────────────── the data ─────────────────────────

/** The demo directory's officers (src/demo/directory.json). */
const MEGAN = { aadObjectId: '00000000-0000-0000-0000-0000000000021', name: 'Megan Bowen' };
const ADELE = '00000000-0000-0000-0000-0000000000022';
const ISAIAH = '00000000-0000-0000-0000-0000000000023';

/** A SQL string literal. The values below are this file's constants, but quote them properly all the same. */
/** `(array[…])[1 + (expr) % n]`: a value picked from a list by a row number, deterministically. */

const firstNames = ['Jordan', 'Aisha', 'Callum', 'Priya', 'Tyler', 'Amira', 'Kieran', 'Sofia', 'Liam', 'Hannah', 'Bilal', 'Chloe', 'Reece', 'Zara', 'Connor', 'Maya', 'Ethan', 'Leah', 'Harvey', 'Imani', 'Mason', 'Ruby', 'Yusuf', 'Ellie', 'Owen', 'Nadia', 'Jake', 'Freya', 'Adam', 'Grace', 'Dylan', 'Amelia', 'Kai', 'Isla', 'Ryan', 'Poppy', 'Samir', 'Erin', 'Lewis', 'Jasmine'];
const lastNames = ['Smith', 'Khan', 'Jones', 'Patel', 'Williams', 'Ahmed', 'Brown', 'Taylor', 'Davies', 'Hussain', 'Evans', 'Wilson', 'Thomas', 'Ali', 'Roberts', 'Johnson', 'Lewis', 'Walker', 'Robinson', 'Wright', 'Thompson', 'White', 'Hughes', 'Edwards', 'Green', 'Hall', 'Wood', 'Harris', 'Martin', 'Jackson', 'Clarke', 'Begum', 'Turner', 'Hill', 'Cooper', 'Ward', 'Morris', 'Moore'];
const jobTitles = ['Head of Year 9', 'Designated Safeguarding Lead', 'Youth Worker', 'GP', 'Social Worker', 'Community Nurse', 'Housing Officer', 'Imam', 'Probation Officer', 'Teacher'];
const sectors = ['education', 'education', 'education', 'health', 'localAuthority', 'socialCare', 'police', 'communityFaith', 'familyFriend', 'other'];
const streets = ['Example Street', 'Station Road', 'High Street', 'Church Lane', 'Victoria Road', 'Mill Lane', 'Park Avenue', 'Queen Street', 'Green Lane', 'Manor Road'];
const schools = ['Northgate Academy', 'Southbridge High School', 'St Mary’s College', 'Riverside Sixth Form', 'Westfield Academy', 'City College', 'Hillside School'];
const concernTexts = [
  'Shared extremist videos with classmates and said violence was justified.',
  'Has been posting material from a proscribed group on social media.',
  'Talked about wanting to hurt people at school and researched past attacks.',
  'Spends long hours in online forums that glorify violence against women.',
  'Family report a sudden change in behaviour and new associates met online.',
  'Was overheard saying a named group is right and that others deserve what is coming.',
];
const concernTypes = ['islamist', 'extremeRightWing', 'extremeRightWing', 'leftWingAnarchistSingleIssue', 'conflicted', 'noIdeologyOrCtRisk', 'schoolMassacre', 'incel', 'otherUnclear'];
const rationales = [
  'Ideological concern with clear vulnerabilities; meets the threshold for Channel.',
  'No ideology identified; needs met by children’s services.',
  'Low risk after discussion with the school; signposted to local support.',
  'Information from police indicates an active investigation.',
  'Concerns are about wellbeing rather than radicalisation.',
];
const providers = ['Intervention provider: Jo Mentor', 'CAMHS North', 'Northgate Youth Service', 'Southbridge Careers Hub', 'Family Support Team', 'Ayo Mentoring'];
const actionTitles = ['Contact the school DSL', 'Arrange a home visit', 'Share panel minutes with partners', 'Review with the mentor', 'Check online activity with police', 'Book a consent meeting with parents', 'Refer to CAMHS'];
const noteTexts = [
  'Spoke with the school: attendance improving, no new incidents.',
  'Parents engaged and supportive of the intervention.',
  'Mentor reports good rapport after three sessions.',
  'Missed the last appointment; rebooked for next week.',
  'Panel agreed to continue support for another three months.',
];

interface LoadTimings {
  readonly steps: Array<[string, number, number]>;
  readonly total: number;
}

/**
 * Fills the migrated database. One temporary `plan` table fixes, per
 * referral number i, everything the tables share (ids, area, dates, outcome,
 * owner, the case's ids); each table is then one INSERT … SELECT from it.
 */
async function loadData(sql: postgres.Sql, n: number, queuePerArea: number): Promise<LoadTimings> {
  const steps: Array<[string, number, number]> = [];
  const t0 = performance.now();
  const step = async (name: string, text: string) => {
    const t = performance.now();
    const r = await sql.unsafe(text);
    steps.push([name, r.count ?? 0, performance.now() - t]);
  };
  await sql.unsafe(`set synchronous_commit = off`);
  await sql.unsafe(`set maintenance_work_mem = '256MB'`);

  // i = 1 … n, oldest first, ~53 minutes apart with a little jitter; i even → Northgate, odd → Southbridge.
  // The newest 2 × queuePerArea are untriaged. Of the triaged, (i/2) % 24 sets the outcome: 5 in 24 open a case.
  await step(
    'plan',
    `create temp table plan as
     with g as (
       select i,
              case when i % 2 = 0 then 'northgate' else 'southbridge' end as area,
              now() - (${n} - i) * (interval '3650 days' / ${n}) - ((i * 7919) % 1800) * interval '1 second' as submitted_at,
              case when i > ${n - 2 * queuePerArea} then null
                   when (i / 2) % 24 < 3 then 'channel'
                   when (i / 2) % 24 < 5 then 'police_led'
                   when (i / 2) % 24 < 15 then 'no_further_action'
                   when (i / 2) % 24 < 22 then 'signposted'
                   else 'ct_policing' end as outcome
       from generate_series(1, ${n}) as i
     ), h as (
       select g.*,
              gen_random_uuid() as id,
              extract(year from submitted_at at time zone 'Europe/London')::int as year,
              least(now(), submitted_at + interval '1 day' + (i % 72) * interval '1 hour') as assessed_at,
              case when (i / 48) % 2 = 0 then (case when area = 'northgate' then ${lit(MEGAN.aadObjectId)} else ${lit(ADELE)} end) else ${lit(ISAIAH)} end as owner,
              outcome in ('channel', 'police_led') as has_case
       from g
     )
     select h.*,
            row_number() over (partition by year order by submitted_at, i) as ref_no,
            case when has_case then gen_random_uuid() end as case_id,
            has_case and submitted_at > now() - interval '18 months' as case_open,
            case when has_case and submitted_at <= now() - interval '18 months' then assessed_at + (120 + i % 240) * interval '1 day' end as closed_at,
            case when has_case then gen_random_uuid() end as intervention_id,
            case when has_case then gen_random_uuid() end as action1,
            case when has_case then gen_random_uuid() end as action2,
            case when has_case then gen_random_uuid() end as action3
     from h`,
  );

  const first = pick(firstNames, 'i * 7');
  const last = pick(lastNames, 'i * 13 + i / 40');
  await step(
    'referrals',
    `insert into referrals (id, reference, pathway, draft_id, referrer_aad_object_id, area_id, status, answers, submitted_at, triage_due_on)
     select id,
            'PRV-' || year || '-' || lpad(ref_no::text, 6, '0'),
            'prevent',
            gen_random_uuid(),
            '00000000-0000-4000-8000-' || lpad((i % 2500)::text, 12, '0'),
            area,
            case when outcome is null then 'received' when case_open then 'being_assessed' else 'closed' end,
            jsonb_build_object(
              'danger', jsonb_build_object('immediateDanger', 'no'),
              'aboutYou', jsonb_build_object(
                'referrerName', ${pick(firstNames, 'i % 2500')} || ' ' || ${pick(lastNames, 'i % 2500 + 3')},
                'jobTitle', ${pick(jobTitles, 'i % 2500')},
                'organisation', ${pick(schools, 'i % 2500')},
                'sector', ${pick(sectors, 'i % 2500')},
                'phone', '020 7946 ' || lpad((i % 10000)::text, 4, '0'),
                'relationship', 'Works with the person'),
              'aboutPerson', jsonb_build_object(
                'firstName', ${first},
                'lastName', ${last},
                'dateOfBirth', to_char(submitted_at - ((11 + i % 20) * 365 + i % 300) * interval '1 day', 'YYYY-MM-DD'),
                'gender', ${pick(['male', 'male', 'female', 'other', 'notKnown'], 'i')},
                'address', (1 + i % 180) || ' ' || ${pick(streets, 'i * 3')} || ', ' || initcap(area),
                'postcode', case when area = 'northgate' then 'NG' else 'SB' end || (1 + i % 9) || ' ' || (i % 10) || ${pick(['AA', 'AB', 'BD', 'HX', 'QT', 'ZL'], 'i')},
                'area', area,
                'schoolOrEmployer', ${pick(schools, 'i * 5')},
                'firstLanguage', ${pick(['English', 'English', 'English', 'Urdu', 'Polish', 'Arabic'], 'i')},
                'interpreterNeeded', 'no'),
              'concern', jsonb_build_object(
                'whatSeenOrHeard', ${pick(concernTexts, 'i')},
                'whenAndWhere', 'In class on ' || to_char(submitted_at, 'FMDay') || ' morning.',
                'concernType', ${pick(concernTypes, 'i * 11')},
                'behaviours', jsonb_build_array('extremistViews', ${pick(['extremistMaterial', 'changeInBehaviour', 'withdrawal', 'justifyingViolence'], 'i')}),
                'vulnerabilities', jsonb_build_array(${pick(['isolation', 'mentalHealth', 'familyIssues', 'grievance', 'autismOrSen'], 'i * 3')}),
                'threatsOfViolence', ${pick(['no', 'no', 'unknown', 'yes'], 'i')},
                'parentsSupport', ${pick(['yes', 'no', 'notAsked', 'notApplicable'], 'i')}),
              'consent', jsonb_build_object(
                'personAware', ${pick(['yes', 'no'], 'i')},
                'personConsented', ${pick(['yes', 'no', 'notAsked'], 'i')},
                'parentsAware', 'yes',
                'otherAgencies', jsonb_build_array('childrensSocialCare'),
                'agencyDetails', initcap(area) || ' children’s services'),
              'review', jsonb_build_object('declaration', true)),
            submitted_at,
            (submitted_at at time zone 'Europe/London')::date + 7
     from plan order by i`,
  );

  await step(
    'reference_counters',
    `insert into reference_counters (prefix, year, last) select 'PRV', year, max(ref_no) from plan group by year`,
  );

  await step(
    'triage_assessments',
    `insert into triage_assessments (id, referral_id, outcome, signposted_to, rationale, contact_made, assessed_by_aad_object_id, assessed_at)
     select gen_random_uuid(), id, outcome,
            case when outcome = 'signposted' then ${pick(['Local youth service', 'CAMHS', 'Early help'], 'i')} end,
            ${pick(rationales, 'i')}, i % 3 <> 0, owner, assessed_at
     from plan where outcome is not null order by i`,
  );

  await step(
    'cases',
    `insert into cases (id, referral_id, area_id, owner_aad_object_id, kind, status, opened_at, closed_at, last_activity_at)
     select case_id, id, area, owner, outcome, case when case_open then 'open' else 'closed' end, assessed_at, closed_at,
            coalesce(closed_at, least(now(), assessed_at + interval '77 days'))
     from plan where has_case order by i`,
  );

  // Day offsets of entries 1–11 from the case's opening; 12 is the closure (closed cases only).
  const at = (days: number) => `least(now(), assessed_at + interval '${days} days')`;
  const day = (expr: string) => `to_char(${expr}, 'YYYY-MM-DD')`;
  const action = (k: number) => `jsonb_build_object('title', ${pick(actionTitles, `i + ${k}`)}, 'owner', ${k === 3 ? lit(ISAIAH) : 'owner'}, 'dueOn', ${day(`${at([0, 28, 63, 77][k]!)} + interval '21 days'`)})`;
  await step(
    'case_entries',
    `insert into case_entries (id, case_id, kind, subject_id, corrects_entry_id, data, author_aad_object_id, at)
     select case when k = 4 then intervention_id else gen_random_uuid() end,
            case_id,
            (array['opened', 'consent', 'vulnerability', 'intervention', 'note', 'action', 'vulnerability', 'interventionReview', 'action', 'note', 'action', 'closed'])[k],
            case k when 4 then intervention_id when 8 then intervention_id when 6 then action1 when 9 then action2 when 11 then action3 end,
            null,
            case k
              when 1 then jsonb_build_object('outcome', outcome)
              when 2 then jsonb_build_object('status', ${pick(['given', 'given', 'sought', 'refused', 'notSought'], 'i')}, 'decidedOn', ${day(at(3))}, 'givenBy', 'parentCarer',
                                             'parentCarerName', ${pick(firstNames, 'i * 3')} || ' ' || ${pick(lastNames, 'i * 13 + i / 40')}, 'note', 'Discussed at a home visit.')
              when 3 then jsonb_build_object('assessedOn', ${day(at(7))}, 'engagement', ((i + 2) % 4)::text, 'engagementFactors', jsonb_build_array('identity', 'groupInfluence'),
                                             'intent', ((i + 1) % 3)::text, 'intentFactors', jsonb_build_array('usAndThem'), 'capability', (i % 2)::text, 'capabilityFactors', jsonb_build_array(), 'notes', 'Initial assessment.')
              when 4 then jsonb_build_object('type', ${pick(['mentoring', 'mentalHealth', 'educationTraining', 'familySupport', 'diversion'], 'i')}, 'provider', ${pick(providers, 'i')},
                                             'startOn', ${day(at(14))}, 'working', 'tooEarly', 'note', 'Weekly sessions agreed.')
                          || case when closed_at is null then '{}'::jsonb else jsonb_build_object('endOn', ${day('closed_at')}) end
              when 5 then jsonb_build_object('text', ${pick(noteTexts, 'i')})
              when 6 then ${action(1)}
              when 7 then jsonb_build_object('assessedOn', ${day(at(42))}, 'engagement', ((i + 1) % 4)::text, 'engagementFactors', jsonb_build_array('identity'),
                                             'intent', (i % 3)::text, 'intentFactors', jsonb_build_array(), 'capability', (i % 2)::text, 'capabilityFactors', jsonb_build_array(), 'notes', 'Review after intervention started.')
              when 8 then jsonb_build_object('working', ${pick(['yes', 'partly', 'no'], 'i')}, 'note', ${pick(noteTexts, 'i + 2')})
              when 9 then ${action(2)}
              when 10 then jsonb_build_object('text', ${pick(noteTexts, 'i + 3')})
              when 11 then ${action(3)}
              else jsonb_build_object('reason', ${pick(['riskReduced', 'supportCompleted', 'notAdopted', 'consentRefused', 'movedAway'], 'i')}, 'note', 'Closed at panel.')
            end,
            case when k in (5, 10) and i % 2 = 0 then ${lit(ISAIAH)} else owner end,
            case k when 1 then ${at(0)} when 2 then ${at(3)} when 3 then ${at(7)} when 4 then ${at(14)} when 5 then ${at(21)} when 6 then ${at(28)}
                   when 7 then ${at(42)} when 8 then ${at(56)} when 9 then ${at(63)} when 10 then ${at(70)} when 11 then ${at(77)} else closed_at end
     from plan cross join generate_series(1, 12) as k
     where has_case and (k < 12 or closed_at is not null)
     order by assessed_at, i, k`,
  );

  await step(
    'case_actions',
    `insert into case_actions (id, case_id, kind, title, owner_aad_object_id, due_on, status, created_at, completed_at)
     select case k when 1 then action1 when 2 then action2 else action3 end,
            case_id, 'officer', ${pick(actionTitles, 'i + k')},
            case when k = 3 then ${lit(ISAIAH)} else owner end,
            (case k when 1 then ${at(28)} when 2 then ${at(63)} else ${at(77)} end + interval '21 days')::date,
            case when case_open and k > 1 then 'open' else 'done' end,
            case k when 1 then ${at(28)} when 2 then ${at(63)} else ${at(77)} end,
            case when case_open and k > 1 then null
                 else least(now(), coalesce(closed_at, now()), case k when 1 then ${at(28)} when 2 then ${at(63)} else ${at(77)} end + interval '10 days') end
     from plan cross join generate_series(1, 3) as k
     where has_case
     order by assessed_at, i, k`,
  );

  await step('vacuum analyze', `vacuum analyze`);
  await sql.unsafe(`drop table plan`);
  return { steps, total: performance.now() - t0 };
}

// Child processes, CPU accounting, the HTTP client and the report tables: bench/lib.ts.

/** CPU ms spent between two snapshots (summed over a target's segments). */
class CpuTotals {
  server = 0;
  pg = 0;
  loadgen = 0;
  busyJiffies = 0;
  totalJiffies = 0;
  complete = true;

  add(a: CpuSnapshot, b: CpuSnapshot): void {
    if (a.server === undefined || b.server === undefined || b.pg.size === 0 || !a.machine || !b.machine) {
      this.complete = false;
      return;
    }
    this.server += b.server - a.server;
    // A backend that appeared meanwhile counts from its start.
    for (const [pid, ms] of b.pg) this.pg += ms - (a.pg.get(pid) ?? 0);
    this.loadgen += b.loadgen - a.loadgen;
    this.busyJiffies += b.machine.busy - a.machine.busy;
    this.totalJiffies += b.machine.total - a.machine.total;
  }

  /** Share of the whole machine that was busy. */
  get machineBusy(): number {
    return this.totalJiffies > 0 ? this.busyJiffies / this.totalJiffies : NaN;
  }

  /** CPU ms of everything else on the machine. */
  get others(): number {
    return Math.max(0, (this.busyJiffies * 1000) / clockTicks - this.server - this.pg - this.loadgen);
  }
}

// ───────────────────────── the fake Bot Connector (in this process) ─────────────────────────

/**
 * Receives what the bot POSTs: a reply (it names the activity it answers, one
 * of ours) is kept under that id for the client to check; anything else is a proactive
 * message (a reminder from the bot's background jobs), only counted.
 */
class LeanConnector {
  private server: Server | undefined;
  private counter = 0;
  private readonly replies = new Map<string, string>();
  posts = 0;
  proactive = 0;
  unexpected = 0;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.posts += 1;
        const m = /^\/v3\/conversations\/[^/]+\/activities(?:\/([^/?]+))?/.exec(req.url ?? '');
        if (!m || req.method !== 'POST') {
          this.unexpected += 1;
          res.writeHead(404).end();
          return;
        }
        const text = Buffer.concat(chunks).toString('utf8');
        let replyTo = m[1] ? decodeURIComponent(m[1]) : undefined;
        if (!replyTo) {
          try {
            replyTo = (JSON.parse(text) as { replyToId?: string }).replyToId;
          } catch {
            /* counted below */
          }
        }
        // Our activity ids start `in-` (User.message); a proactive send names none of them.
        if (replyTo?.startsWith('in-')) this.replies.set(replyTo, text);
        else this.proactive += 1;
        const body = JSON.stringify({ id: `sent-${++this.counter}` });
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
      });
    });
    this.server.keepAliveTimeout = 65_000;
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  /** The reply to one activity (the raw JSON the bot POSTed), once. */
  take(activityId: string): string | undefined {
    const r = this.replies.get(activityId);
    this.replies.delete(activityId);
    return r;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }
}

// ───────────────────────── what the database backends are doing ─────────────────────────

/**
 * Samples pg_stat_activity every 25 ms while running: how many of the bench
 * database's client backends are running, waiting (on a lock, on the WAL …)
 * or idle in a transaction (waiting for the server's next statement).
 * The averages say where the time of the requests goes inside PostgreSQL.
 */
class WaitSampler {
  readonly counts = new Map<string, number>();
  polls = 0;
  private stopped = false;
  private loop: Promise<void> | undefined;

  constructor(private readonly sql: postgres.Sql) {}

  start(): void {
    this.loop = (async () => {
      while (!this.stopped) {
        const rows = await this.sql<Array<{ state: string | null; wait: string | null }>>`
          select state, wait_event_type || ':' || wait_event as wait from pg_stat_activity
          where datname = current_database() and pid <> pg_backend_pid() and backend_type = 'client backend' and state <> 'idle'`;
        this.polls += 1;
        for (const r of rows) {
          const k = r.state === 'active' ? (r.wait ?? 'running') : String(r.state);
          this.counts.set(k, (this.counts.get(k) ?? 0) + 1);
        }
        await sleep(25);
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }
}

// ───────────────────────── the client ─────────────────────────

const TENANT = '11111111-2222-3333-4444-555555555555';
const BOT_ID = '28:safeguard-desk-bot';


/** One Teams user in a personal chat with the bot. */
class User {
  readonly conversationId: string;
  constructor(
    readonly aadObjectId: string,
    readonly name: string,
    readonly serviceUrl: string,
  ) {
    this.conversationId = `a:personal-${aadObjectId}`;
  }

  /** A chat message exactly as Teams posts it, and its activity id (the bot's reply carries it as replyToId). */
  message(text: string): { id: string; body: string } {
    const now = new Date();
    const id = `in-${randomUUID()}`;
    const body = JSON.stringify({
      id,
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
      type: 'message',
      text,
      textFormat: 'plain',
    });
    return { id, body };
  }
}

type TargetName = 'baseline' | 'queue' | 'case';
const targetNames: readonly TargetName[] = ['baseline', 'queue', 'case'];

/** One request: its body, and (bot only) what the reply card must contain. */
interface Job {
  readonly id: string;
  readonly body: string;
  readonly expect?: readonly string[];
}

class RunStats {
  readonly latency: number[] = [];
  /** Non-200 answers and transport errors, warm-up included. */
  non200 = 0;
  transportErrors = 0;
  /** 200 answers whose reply card was missing or not the one asked for (an error card, another record). */
  wrongCard = 0;
  /** Wall time of the measured parts of the segments, ms. */
  measuredMs = 0;
  readonly statuses = new Map<number, number>();
  readonly errorSamples: string[] = [];
  readonly cpu = new CpuTotals();
  /** Backends by state, summed over the polls of the measured parts (see WaitSampler). */
  readonly backends = new Map<string, number>();
  backendPolls = 0;
  /** Proactive messages the bot sent meanwhile (its background jobs), measured parts only. */
  proactive = 0;
}

/**
 * One segment: `warmup` requests, then `measured` more, from `clients`
 * concurrent clients; a request counts when it was handed out after the warm-up.
 */
async function runSegment(
  port: number,
  serverPid: number | undefined,
  clients: number,
  warmup: number,
  measured: number,
  job: () => Job,
  connector: LeanConnector,
  pgPids: PgPids,
  sampler: WaitSampler,
  stats: RunStats,
): Promise<{ fromUs: bigint; toUs: bigint; counted: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: clients, maxFreeSockets: clients });
  const total = warmup + measured;
  let next = 0;
  let measureStart = 0;
  let fromUs = 0n;
  const countedBefore = stats.latency.length;
  let cpuStart: Promise<CpuSnapshot> | undefined;
  let proactiveStart = 0;

  const client = async () => {
    for (;;) {
      const k = next++;
      if (k >= total) return;
      if (k === warmup) {
        measureStart = performance.now();
        fromUs = process.hrtime.bigint() / 1000n;
        proactiveStart = connector.proactive;
        cpuStart = cpuSnapshot(serverPid, pgPids);
        sampler.start();
      }
      const j = job();
      const start = performance.now();
      let r: HttpResult;
      try {
        r = await post(agent, port, j.body);
      } catch (err) {
        stats.transportErrors += 1;
        if (stats.errorSamples.length < 5) stats.errorSamples.push((err as Error).message);
        continue;
      }
      const ms = performance.now() - start;
      stats.statuses.set(r.status, (stats.statuses.get(r.status) ?? 0) + 1);
      if (r.status !== 200) {
        stats.non200 += 1;
        if (stats.errorSamples.length < 5) stats.errorSamples.push(`HTTP ${r.status} ${r.text.slice(0, 200)}`);
        continue;
      }
      if (j.expect) {
        const reply = connector.take(j.id);
        const missing = j.expect.find((s) => !reply?.includes(s));
        if (missing !== undefined) {
          stats.wrongCard += 1;
          if (stats.errorSamples.length < 5) stats.errorSamples.push(`expected ${JSON.stringify(missing)} in the reply, got ${reply === undefined ? '(no reply)' : reply.slice(0, 300)}`);
        }
      }
      if (k >= warmup) stats.latency.push(ms);
    }
  };
  await Promise.all(Array.from({ length: clients }, client));
  const toUs = process.hrtime.bigint() / 1000n;
  agent.destroy();
  if (cpuStart) {
    stats.measuredMs += performance.now() - measureStart;
    stats.proactive += connector.proactive - proactiveStart;
    await sampler.stop();
    stats.cpu.add(await cpuStart, await cpuSnapshot(serverPid, pgPids));
    for (const [k, n] of sampler.counts) stats.backends.set(k, (stats.backends.get(k) ?? 0) + n);
    stats.backendPolls += sampler.polls;
  }
  return { fromUs, toUs, counted: stats.latency.length - countedBefore };
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

function summarise(values: number[], ms: number): Summary {
  const a = Float64Array.from(values).sort();
  return { count: a.length, perS: ms > 0 ? (a.length * 1000) / ms : NaN, p50: percentile(a, 0.5), p90: percentile(a, 0.9), p99: percentile(a, 0.99), max: a.length ? a[a.length - 1]! : NaN };
}


// ───────────────────────── query plans ─────────────────────────

/** One statement `queue` or `case` runs (as src/db/repositories/*.ts builds it), with sample parameters. */
interface Probe {
  readonly name: string;
  readonly used: string;
  readonly text: string;
  readonly samples: ReadonlyArray<ReadonlyArray<string | number>>;
}

interface ProbeResult {
  readonly probe: Probe;
  readonly medianMs: number;
  readonly maxMs: number;
  readonly nodes: string;
  /** Tables of 1,000 rows or more read by a sequential scan. */
  readonly seqScans: string[];
  readonly plan: string;
}

/** The statement with its parameters written in: drizzle sends unnamed statements, planned afresh for their values each time. */
const bind = (text: string, params: ReadonlyArray<string | number>) =>
  text.replace(/\$(\d+)/g, (_, n: string) => {
    const v = params[Number(n) - 1]!;
    return typeof v === 'number' ? String(v) : lit(v);
  });

/** Walks an EXPLAIN (FORMAT JSON) plan: "Index Scan using x on t", … */
function planNodes(node: Record<string, unknown>, out: Array<{ text: string; seqOn?: string }> = []): Array<{ text: string; seqOn?: string }> {
  const type = String(node['Node Type']);
  const rel = node['Relation Name'] ? String(node['Relation Name']) : undefined;
  out.push({ text: `${type}${node['Index Name'] ? ` using ${String(node['Index Name'])}` : ''}${rel ? ` on ${rel}` : ''}`, ...(type === 'Seq Scan' && rel ? { seqOn: rel } : {}) });
  for (const child of (node.Plans as Array<Record<string, unknown>> | undefined) ?? []) planNodes(child, out);
  return out;
}

/**
 * EXPLAIN ANALYZEs each statement once per sample (after one untimed run, so
 * the pages are cached as they are for the bot); reports the median and
 * slowest execution and the slowest one's plan.
 */
async function explainProbes(sql: postgres.Sql, probes: readonly Probe[]): Promise<ProbeResult[]> {
  const sizes = new Map((await sql<Array<{ rel: string; n: number }>>`select relname as rel, reltuples::float8 as n from pg_class where relkind = 'r'`).map((r) => [r.rel, r.n]));
  const out: ProbeResult[] = [];
  for (const probe of probes) {
    await sql.unsafe(bind(probe.text, probe.samples[0]!));
    const times: number[] = [];
    let slowest = { ms: -1, json: {} as Record<string, unknown>, params: probe.samples[0]! };
    for (const params of probe.samples) {
      const [row] = await sql.unsafe(`explain (analyze, buffers, format json) ${bind(probe.text, params)}`);
      const json = (row!['QUERY PLAN'] as Array<Record<string, unknown>>)[0]!;
      const ms = Number(json['Execution Time']);
      times.push(ms);
      if (ms > slowest.ms) slowest = { ms, json, params };
    }
    const rows = await sql.unsafe(`explain (analyze, buffers) ${bind(probe.text, slowest.params)}`);
    const nodes = planNodes(slowest.json.Plan as Record<string, unknown>);
    times.sort((a, b) => a - b);
    out.push({
      probe,
      medianMs: times[Math.floor(times.length / 2)]!,
      maxMs: times[times.length - 1]!,
      nodes: nodes.map((n) => n.text).join(' → '),
      seqScans: nodes.flatMap((n) => (n.seqOn && (sizes.get(n.seqOn) ?? 0) >= 1000 ? [n.seqOn] : [])),
      plan: rows.map((r) => String(r['QUERY PLAN'])).join('\n'),
    });
  }
  return out;
}

// ───────────────────────── main ─────────────────────────

let cleanup: (() => Promise<void>) | undefined;

async function main(): Promise<void> {
  const s = settings();
  const cores = cpus().length;
  const [l1, l5, l15] = loadavg();
  console.log(`bench:case: \`queue\` and \`case <REF>\` on ${s.referrals.toLocaleString('en-GB')} referrals vs bare node:http + one indexed SELECT; target p99 ≤ ${s.targetMs} ms`);
  console.log(`machine: ${cores} cores, load average ${f2(l1!)} ${f2(l5!)} ${f2(l15!)} (see "other procs" below for what else ran during the measured segments)`);

  const admin = postgres(s.adminUrl, { max: 1, onnotice: () => {} });
  const dbName = `bench_case_${process.pid}`;
  const dbUrl = new URL(s.adminUrl);
  dbUrl.pathname = `/${dbName}`;
  let dbCreated = false;
  let connector: LeanConnector | undefined;
  let dataSql: postgres.Sql | undefined;

  let cleaning: Promise<void> | undefined;
  cleanup = () =>
    (cleaning ??= (async () => {
      await Promise.all([...children].map(stopChild));
      await connector?.stop().catch(() => {});
      await dataSql?.end({ timeout: 5 }).catch(() => {});
      if (dbCreated && !s.keepDb) {
        await admin.unsafe(`drop database if exists ${dbName} with (force)`).catch((err: unknown) => console.error(`could not drop ${dbName}:`, err));
      }
      await admin.end({ timeout: 5 }).catch(() => {});
    })());

  try {
    await admin.unsafe(`create database ${dbName}`);
    dbCreated = true;

    // ── schema: the service's own migrations, through the service's own opener
    const migrated = await openDatabase({ databaseUrl: dbUrl.toString(), pgliteDataDir: 'memory://', poolSize: 1 });
    await migrated.close();

    // ── data
    dataSql = postgres(dbUrl.toString(), { max: 1, onnotice: () => {} });
    process.stdout.write(`database: ${dbName} (fresh${s.keepDb ? ', KEPT at the end' : ', dropped at the end'}); loading … `);
    const timings = await loadData(dataSql, s.referrals, s.queuePerArea);
    console.log(`${f1(timings.total / 1000)} s`);
    console.log(table(['load step', 'rows', 's'], timings.steps.map(([name, rows, ms]) => [name, name === 'vacuum analyze' || name === 'plan' ? '' : rows.toLocaleString('en-GB'), f2(ms / 1000)])));
    const [size] = await dataSql<Array<{ size: string }>>`select pg_size_pretty(pg_database_size(current_database())) as size`;
    console.log(`database size ${size?.size}`);

    const [q] = await dataSql<Array<{ n: number }>>`select count(*)::int as n from referrals where area_id = 'northgate' and status = 'received'`;
    const queueTotal = q?.n ?? 0;
    const refs = (
      await dataSql<Array<{ reference: string }>>`select r.reference from cases c join referrals r on r.id = c.referral_id where c.area_id = 'northgate' order by random() limit 500`
    ).map((r) => r.reference);
    if (refs.length === 0) throw new Error('no Northgate cases were loaded');

    const ds = dataSql;
    const pgPids: PgPids = async () =>
      (
        await ds<Array<{ pid: number }>>`select pid from pg_stat_activity
          where (datname = current_database() and pid <> pg_backend_pid())
             or backend_type in ('walwriter', 'checkpointer', 'background writer')`
      ).map((r) => r.pid);

    connector = await new LeanConnector().start();
    const perSegment = Math.ceil(s.requests / s.rounds);
    console.log(
      `\nclients: ${s.levels.join(', ')}; per target and level ${perSegment * s.rounds} measured requests in ${s.rounds} rounds (baseline → queue → case), ${s.warmup} warm-up requests before each; pool ${s.poolSize} connections each`,
    );
    console.log(`requests: Megan Bowen (officer, Northgate) types \`queue\` (${queueTotal} waiting), or \`case <REF>\` for one of ${refs.length} Northgate cases drawn at random`);
    console.log(`processes: bot and baseline each in its own child process; load generator and fake Bot Connector in this one; children's output in ${s.logDir}`);

    const bot = await startChild('bot', s.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${s.cpuProfDir}`] : [], 'src/index.ts', { HOST: '127.0.0.1', DATABASE_URL: dbUrl.toString(), DATABASE_POOL_SIZE: String(s.poolSize), LOG_LEVEL: 'warn' }, s.logDir);
    const baseline = await startChild('baseline', [], thisFile, { BENCH_ROLE: 'baseline', DATABASE_URL: dbUrl.toString(), DATABASE_POOL_SIZE: String(s.poolSize) }, s.logDir);

    const megan = new User(MEGAN.aadObjectId, MEGAN.name, connector.url);
    const randomRef = () => refs[Math.floor(Math.random() * refs.length)]!;
    const jobs: Record<TargetName, () => Job> = {
      baseline: () => megan.message(`case ${randomRef()}`),
      // The card counts the backlog up to 500 (QUEUE_COUNT_CAP), then says "more than 500".
      queue: () => ({ ...megan.message('queue'), expect: ['Waiting for triage', queueTotal > 500 ? 'of more than 500.' : `of ${queueTotal},`] }),
      case: () => {
        const ref = randomRef();
        return { ...megan.message(`case ${ref}`), expect: [`Case ${ref}`] };
      },
    };

    // ── settle: Megan has used the bot before (so she is reachable, like a real officer), and the bot's own
    // start-up work on the loaded backlog (the reminder sweep, the outbox) is over before anything is measured.
    const firstAgent = new Agent();
    const first = await post(firstAgent, Number(new URL(bot.url).port), megan.message('queue').body);
    firstAgent.destroy();
    if (first.status !== 200) throw new Error(`first \`queue\` answered ${first.status}: ${first.text.slice(0, 300)}`);
    const settleStart = performance.now();
    let idle = false;
    while (!idle && performance.now() - settleStart < s.settleS * 1000) {
      const a = procCpuMs(bot.proc.pid!);
      await sleep(2000);
      const b = procCpuMs(bot.proc.pid!);
      idle = a === undefined || b === undefined || (b - a) / 2000 < 0.1;
    }
    const outbox = await ds<Array<{ status: string; n: number }>>`select status, count(*)::int as n from outbox group by status order by status`;
    console.log(
      `settle: the bot ${idle ? 'was idle (< 0.1 core over 2 s)' : `was still busy (BENCH_SETTLE_S=${s.settleS} reached)`} ${f1((performance.now() - settleStart) / 1000)} s after Megan's first message; ` +
        `outbox ${outbox.map((r) => `${r.status} ${r.n}`).join(', ') || 'empty'}; ${connector.proactive} proactive messages so far`,
    );

    const results = new Map<string, RunStats>();
    for (const clients of s.levels) {
      for (const name of targetNames) results.set(`${name}:${clients}`, new RunStats());
      for (let round = 1; round <= s.rounds; round++) {
        process.stdout.write(`${clients} clients, round ${round}/${s.rounds}:`);
        for (const name of targetNames) {
          const child = name === 'baseline' ? baseline : bot;
          const st = results.get(`${name}:${clients}`)!;
          const before = st.latency.length;
          const w = await runSegment(Number(new URL(child.url).port), child.proc.pid, clients, s.warmup, perSegment, jobs[name], connector, pgPids, new WaitSampler(ds), st);
          const seg = summarise(st.latency.slice(before), 0);
          process.stdout.write(` ${name} p50 ${f2(seg.p50)} p99 ${f2(seg.p99)} ms;`);
          if (s.cpuProfDir && name !== 'baseline') process.stdout.write(` [profile window --from ${w.fromUs} --to ${w.toUs} --turns ${w.counted}]`);
          if (child.exited) throw new Error(`${name} died during the run; see ${child.logFile}:\n${tail(child.logFile)}`);
          await sleep(300);
        }
        process.stdout.write('\n');
      }
    }

    // ── results
    console.log('\nper target (measured requests only; errors include the warm-up)');
    const rows: string[][] = [];
    for (const clients of s.levels) {
      for (const name of targetNames) {
        const st = results.get(`${name}:${clients}`)!;
        const sum = summarise(st.latency, st.measuredMs);
        const cpu = st.cpu.complete ? st.cpu : undefined;
        const perReq = (ms?: number) => (ms !== undefined && sum.count > 0 ? f3(ms / sum.count) : '–');
        rows.push([
          name === 'baseline' ? 'baseline (SELECT)' : `bot \`${name}\``,
          String(clients),
          String(sum.count),
          f1(sum.perS),
          f2(sum.p50),
          f2(sum.p90),
          f2(sum.p99),
          f1(sum.max),
          String(st.non200 + st.transportErrors),
          name === 'baseline' ? '' : String(st.wrongCard),
          perReq(cpu?.server),
          perReq(cpu?.pg),
          perReq(cpu?.loadgen),
          cpu ? `${Math.round(cpu.machineBusy * 100)}%` : '–',
          cpu ? f2(cpu.others / st.measuredMs) : '–',
        ]);
      }
    }
    console.log(
      table(['target', 'clients', 'requests', 'per s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'non-200', 'wrong card', 'server CPU ms/req', 'pg CPU ms/req', 'loadgen CPU ms/req', 'machine busy', 'other procs (cores)'], rows),
    );

    console.log(`\nagainst the baseline at the same concurrency, and the target (p99 ≤ ${s.targetMs} ms)`);
    let missed = false;
    const rrows: string[][] = [];
    for (const clients of s.levels) {
      const b = results.get(`baseline:${clients}`)!;
      const bs = summarise(b.latency, b.measuredMs);
      for (const name of ['queue', 'case'] as const) {
        const t = results.get(`${name}:${clients}`)!;
        const ts = summarise(t.latency, t.measuredMs);
        const pass = ts.p99 <= s.targetMs;
        if (!pass) missed = true;
        rrows.push([
          `\`${name}\``,
          String(clients),
          f2(ts.p50),
          f2(bs.p50),
          `${f1(ts.p50 / bs.p50)}×`,
          f2(ts.p99),
          f2(bs.p99),
          `${f1(ts.p99 / bs.p99)}×`,
          f1(ts.perS),
          f1(bs.perS),
          `${f3(ts.perS / bs.perS)}×`,
          pass ? 'PASS' : 'MISS',
        ]);
      }
    }
    console.log(table(['command', 'clients', 'p50 ms', 'baseline p50', 'p50 ratio', 'p99 ms', 'baseline p99', 'p99 ratio', 'per s', 'baseline per s', 'throughput', `p99 ≤ ${s.targetMs} ms`], rrows));
    // Closed loop, no think time: mean latency = clients ÷ throughput (Little's law), so the target also sets a throughput floor.
    for (const clients of s.levels) {
      const need = clients / (s.targetMs / 1000);
      const got = (['queue', 'case'] as const).map((n) => `\`${n}\` ${f1(summarise(results.get(`${n}:${clients}`)!.latency, results.get(`${n}:${clients}`)!.measuredMs).perS)}`);
      console.log(`  ${clients} clients with no think time: a mean under ${s.targetMs} ms needs more than ${clients} ÷ ${s.targetMs} ms = ${f1(need)} turns/s; measured ${got.join(', ')}`);
    }

    console.log('\nPostgreSQL backends of the bench database by state: the average number at any moment (measured parts; sampled every 25 ms)');
    const brows: string[][] = [];
    for (const clients of s.levels) {
      for (const name of targetNames) {
        const st = results.get(`${name}:${clients}`)!;
        const polls = Math.max(1, st.backendPolls);
        const states = [...st.backends.entries()].sort((a, b) => b[1] - a[1]);
        const total = states.reduce((a, [, n]) => a + n, 0) / polls;
        brows.push([
          name === 'baseline' ? 'baseline (SELECT)' : `bot \`${name}\``,
          String(clients),
          f2(total),
          st.backendPolls < 10 ? '(too short to sample)' : states.slice(0, 6).map(([k, n]) => `${k} ${f2(n / polls)}`).join(' · ') || '–',
          name === 'baseline' ? '' : String(st.proactive),
        ]);
      }
    }
    console.log(
      table(['target', 'clients', 'busy backends', 'by state (running: on CPU; idle in transaction / Client:ClientRead: waiting for the client process)', 'proactive POSTs meanwhile'], brows),
    );

    // ── the statements behind the two commands
    const sampleRefs = refs.slice(0, 20);
    const ids = await dataSql<Array<{ referral: string; case_id: string }>>`
      select r.id::text as referral, c.id::text as case_id from referrals r join cases c on c.referral_id = r.id where r.reference in ${dataSql(sampleRefs)}`;
    const probes: Probe[] = [
      {
        name: 'listQueue (Megan: 1 area)',
        used: 'queue',
        text: `select "id", "reference", "area_id", "submitted_at", "triage_due_on" from "referrals" where ("referrals"."area_id" in ($1) and "referrals"."status" = $2) order by "referrals"."submitted_at" asc, "referrals"."id" asc limit $3`,
        samples: [['northgate', 'received', 25]],
      },
      {
        name: 'countQueue (Megan: 1 area)',
        used: 'queue',
        text: `select count(*)::int as n from (select 1 from "referrals" where "referrals"."area_id" in ($1) and "referrals"."status" = 'received' limit $2) q`,
        samples: [['northgate', 501]],
      },
      {
        name: 'listQueue (Isaiah: 2 areas)',
        used: 'queue (supervisor)',
        text: `select "id", "reference", "area_id", "submitted_at", "triage_due_on" from "referrals" where ("referrals"."area_id" in ($1, $2) and "referrals"."status" = $3) order by "referrals"."submitted_at" asc, "referrals"."id" asc limit $4`,
        samples: [['northgate', 'southbridge', 'received', 25]],
      },
      {
        name: 'countQueue (Isaiah: 2 areas)',
        used: 'queue (supervisor)',
        text: `select count(*)::int as n from (select 1 from "referrals" where "referrals"."area_id" in ($1, $2) and "referrals"."status" = 'received' limit $3) q`,
        samples: [['northgate', 'southbridge', 501]],
      },
      {
        name: 'findReferralByReference',
        used: 'case',
        text: `select * from "referrals" where "referrals"."reference" = $1`,
        samples: sampleRefs.map((r) => [r]),
      },
      {
        name: 'findCaseByReferral',
        used: 'case',
        text: `select * from "cases" where "cases"."referral_id" = $1`,
        samples: ids.map((r) => [r.referral]),
      },
      {
        name: 'findTriage',
        used: 'case',
        text: `select * from "triage_assessments" where "triage_assessments"."referral_id" = $1`,
        samples: ids.map((r) => [r.referral]),
      },
      {
        name: 'listEntries',
        used: 'case',
        text: `select * from "case_entries" where "case_entries"."case_id" = $1 order by "case_entries"."seq" asc`,
        samples: ids.map((r) => [r.case_id]),
      },
      {
        name: 'listOpenActions',
        used: 'case',
        text: `select * from "case_actions" where ("case_actions"."case_id" = $1 and "case_actions"."status" = $2) order by "case_actions"."due_on" asc, "case_actions"."created_at" asc`,
        samples: ids.map((r) => [r.case_id, 'open']),
      },
      {
        // The read inside audit_chain_head (migrations/0012), which takes the lock first.
        name: 'appendAudit: last link',
        used: 'both (under the audit lock)',
        text: `select a.seq, a.hash from audit_log a order by a.seq desc limit $1`,
        samples: [[1]],
      },
      {
        name: 'bot state read',
        used: 'both (every turn)',
        text: `select * from "bot_state" where "bot_state"."key" = any($1::text[])`,
        samples: [[`{msteams/${BOT_ID}/conversations/a:personal-${MEGAN.aadObjectId},msteams/${BOT_ID}/users/29:${MEGAN.aadObjectId}}`]],
      },
    ];
    const explained = await explainProbes(dataSql, probes);
    console.log(`\nthe statements behind the two commands: EXPLAIN ANALYZE with their values, as the bot sends them (over ${sampleRefs.length} sample references where they vary)`);
    console.log(
      table(
        ['statement', 'run by', 'median ms', 'max ms', 'plan'],
        explained.map((e) => [e.probe.name, e.probe.used, f3(e.medianMs), f3(e.maxMs), `${e.seqScans.length ? 'SEQ SCAN: ' : ''}${e.nodes}`]),
      ),
    );
    const slow = explained.filter((e) => e.maxMs > s.explainMs || e.seqScans.length > 0);
    for (const e of slow) console.log(`\n${e.probe.name}: ${f3(e.maxMs)} ms${e.seqScans.length ? `, sequential scan of ${e.seqScans.join(', ')}` : ''}\n${e.probe.text}\n${e.plan}`);
    if (slow.length === 0) console.log(`(every statement under ${s.explainMs} ms, no sequential scan of a table of 1,000 rows or more)`);

    // ── correctness
    console.log('\nchecks');
    let problems = 0;
    for (const [key, st] of results) {
      const bad = st.non200 + st.transportErrors;
      problems += bad + st.wrongCard;
      if (bad + st.wrongCard > 0) {
        console.log(`  ${key}: ${st.non200} non-200, ${st.transportErrors} transport errors, ${st.wrongCard} wrong cards; statuses ${JSON.stringify(Object.fromEntries(st.statuses))}`);
        for (const e of st.errorSamples) console.log(`    e.g. ${e}`);
      }
    }
    console.log(`  non-200 responses (all runs, warm-up included): ${[...results.values()].reduce((a, st) => a + st.non200 + st.transportErrors, 0)} (must be 0)`);
    console.log(`  wrong or missing reply cards: ${[...results.values()].reduce((a, st) => a + st.wrongCard, 0)} (must be 0)`);
    console.log(`  connector: ${connector.posts} POSTs: ${connector.posts - connector.proactive - connector.unexpected} replies, ${connector.proactive} proactive (the bot's background jobs), ${connector.unexpected} unexpected`);
    if (connector.unexpected > 0) problems += 1;
    const [audit] = await dataSql<Array<{ n: number }>>`select count(*)::int as n from audit_log where action in ('queue.view', 'case.view')`;
    // The bot's turns answered 200, and Megan's first message before the runs.
    const botAnswered = [...results.entries()].filter(([k]) => !k.startsWith('baseline:')).reduce((a, [, st]) => a + (st.statuses.get(200) ?? 0), 1);
    const auditOk = audit?.n === botAnswered;
    console.log(`  audit entries queue.view + case.view: ${audit?.n}; bot turns answered 200 (and the first \`queue\`): ${botAnswered} → ${auditOk ? 'match' : 'MISMATCH'}`);
    if (!auditOk) problems += 1;
    const busy = [...results.entries()].filter(([, st]) => st.cpu.complete && st.cpu.others / st.measuredMs > 0.2);
    if (busy.length > 0) {
      console.log(`\nwarning: other processes used more than 0.2 cores during ${busy.map(([k]) => k).join(', ')}: those latencies are high and the ratios noisy; run again on a quiet machine`);
    }
    if (missed) console.log(`\nMISS: p99 above ${s.targetMs} ms (see the table above)`);
    if (problems > 0 || missed) process.exitCode = 1;
  } finally {
    await cleanup();
    console.log(`\ncleaned up: children stopped, ${s.keepDb && dbCreated ? `database KEPT: ${dbUrl.toString()}` : `database ${dbName} dropped`}`);
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
  await runBench('bench:case', main, { cleanup: () => cleanup, onSignal: 'stopping children and dropping the database' });
}
