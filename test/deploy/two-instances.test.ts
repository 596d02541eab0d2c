/**
 * The deployment shape (DESIGN §11, docs/deploy.md): two instances of the bot
 * as separate processes (`node --import tsx src/index.ts`) on one PostgreSQL
 * database, behind a load balancer that sends each request to either. Each
 * child gets PORT=0 and reports where it listens in its "Safeguard Desk is
 * ready" log line; both reply to a fake Bot Connector (the activities carry
 * its serviceUrl).
 *
 * One teacher's referral is typed with every turn going to the other process
 * from the one before; the referral row must hold every answer as typed. The
 * officers of the area get the new-referral notice once each, although both
 * processes poll the outbox. An officer's actions due tomorrow are reminded
 * once each, although both processes sweep every second. Then both are sent
 * SIGTERM and must shut down cleanly (exit code 0, not the 15 s forced exit).
 *
 * PostgreSQL only: PGlite is one in-process database and cannot be shared by
 * two processes. Without DATABASE_URL the test is skipped.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { BOT_ID, TENANT, people, testFieldKeys, type Card } from '../harness/harness.js';
import { FakeConnector } from '../harness/fake-connector.js';
import { createTestDatabase, type TestDatabase } from '../harness/databases.js';
import { action, cardText } from '../harness/cards.js';
import { channelTriage } from '../harness/officer.js';
import { draftIdOf, validAnswers, wizardSteps } from '../harness/referral.js';
import { executeRows, type DatabaseHandle } from '../../src/db/client.js';
import { loadFieldKeys } from '../../src/config.js';
import { cipherFromSource, installFieldCipher, isEncrypted } from '../../src/db/field-crypto.js';
import { openAnswers } from '../../src/db/narrative-fields.js';
import { londonDate } from '../../src/domain/time.js';
import { nextDay } from '../../src/domain/reminders.js';
import { orphanGuard } from '../harness/processes.js';

const hasPostgres = !!process.env.DATABASE_URL;
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** Preloaded into each child: exit when the test process goes away, however it goes (the IPC pipe closes). As in bench/lib.ts. */

type Person = keyof typeof people;

interface BotProcess {
  readonly name: string;
  readonly proc: ChildProcess;
  readonly url: string;
  readonly output: string[];
  readonly exited: Promise<void>;
}

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs: number, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** Environment for a child: ours minus anything that would switch on Bot Framework auth, production mode or other timings. */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) {
    if (/^Microsoft|^DIRECTORY_FILE$|^NODE_ENV$|^OUTBOX_|^REMINDER_|^PORT$|^HOST$|^INSTANCES$|^DATABASE_/.test(k)) delete env[k];
  }
  return { ...env, ...extra };
}

/** Starts one instance and reads its URL from the "Safeguard Desk is ready" log line (pino JSON on stdout). */
async function startBot(name: string, env: Record<string, string>): Promise<BotProcess> {
  const proc = spawn(process.execPath, ['--import', orphanGuard, '--import', 'tsx', 'src/index.ts'], {
    cwd: repoRoot,
    env: childEnv(env),
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const output: string[] = [];
  const collect = (chunk: Buffer) => output.push(...chunk.toString('utf8').split('\n').filter(Boolean));
  proc.stdout!.on('data', collect);
  proc.stderr!.on('data', collect);
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  let gone = false;
  void exited.then(() => (gone = true));
  const url = await until(
    `${name} to say it is ready`,
    () => {
      if (gone) throw new Error(`${name} exited during start-up (code ${proc.exitCode}):\n${output.join('\n')}`);
      for (const line of output) {
        if (!line.includes('Safeguard Desk is ready')) continue;
        const parsed = JSON.parse(line) as { url?: unknown };
        if (typeof parsed.url === 'string') return parsed.url;
      }
      return undefined;
    },
    60_000,
  );
  return { name, proc, url, output, exited };
}

async function kill(bot: BotProcess): Promise<void> {
  if (bot.proc.exitCode === null && bot.proc.signalCode === null) bot.proc.kill('SIGKILL');
  await bot.exited;
}

/**
 * One person's personal chat with the bot, where every turn names the
 * instance it goes to (what a load balancer decides in production). The
 * activities are shaped as test/harness/harness.ts shapes them.
 */
class Chat {
  readonly aadObjectId: string;
  readonly conversationId: string;
  private seq = 0;
  constructor(
    readonly who: Person,
    private readonly connector: FakeConnector,
  ) {
    this.aadObjectId = people[who].aadObjectId;
    this.conversationId = `a:personal-${this.aadObjectId}`;
  }

  private base(): Record<string, unknown> {
    return {
      id: `in-${randomUUID()}`,
      timestamp: new Date().toISOString(),
      channelId: 'msteams',
      serviceUrl: this.connector.url,
      from: { id: `29:${this.aadObjectId}`, name: people[this.who].name, aadObjectId: this.aadObjectId },
      recipient: { id: BOT_ID, name: 'Safeguard Desk' },
      conversation: { id: this.conversationId, conversationType: 'personal', tenantId: TENANT },
      channelData: { tenant: { id: TENANT } },
      locale: 'en-GB',
    };
  }

  private async post(bot: BotProcess, body: Record<string, unknown>): Promise<{ status: number; body: unknown }> {
    const res = await fetch(`${bot.url}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as unknown) : undefined };
  }

  async install(bot: BotProcess): Promise<void> {
    const r = await this.post(bot, { ...this.base(), type: 'conversationUpdate', membersAdded: [{ id: BOT_ID }] });
    expect(r.status, `install on ${bot.name}`).toBe(200);
  }

  /** A chat message; the cards the bot replied with (to this message only). */
  async say(bot: BotProcess, text: string): Promise<Card[]> {
    const base = this.base();
    const r = await this.post(bot, { ...base, type: 'message', text, textFormat: 'plain' });
    expect(r.status, `"${text}" on ${bot.name}`).toBe(200);
    return this.connector.cardsReplyingTo(this.conversationId, String(base.id));
  }

  /** An Action.Execute press; the card that replaces the pressed one. */
  async execute(bot: BotProcess, verb: string, data: Record<string, unknown>): Promise<Card> {
    this.seq += 1;
    const r = await this.post(bot, {
      ...this.base(),
      type: 'invoke',
      name: 'adaptiveCard/action',
      replyToId: `card-${this.seq}`,
      value: { action: { type: 'Action.Execute', verb, data }, trigger: 'manual' },
    });
    const body = r.body as { type?: string; value?: Card } | undefined;
    if (r.status !== 200 || body?.type !== 'application/vnd.microsoft.card.adaptive' || !body.value) {
      throw new Error(`${verb} on ${bot.name} answered ${r.status}: ${JSON.stringify(r.body).slice(0, 500)}`);
    }
    return body.value;
  }

  /** Presses the button titled `title` on `card`, adding `inputs` as the card would. */
  async press(bot: BotProcess, card: Card, title: string | RegExp, inputs: Record<string, string> = {}): Promise<Card> {
    const a = action(card, title);
    if (!a.verb) throw new Error(`"${String(title)}" is not an Action.Execute:\n${cardText(card)}`);
    return this.execute(bot, a.verb, { ...(a.data ?? {}), ...inputs });
  }

  /** Cards that reached this chat and mention `marker`. */
  cardsMentioning(marker: string): Card[] {
    return this.connector.cardsIn(this.conversationId).filter((c) => cardText(c).includes(marker));
  }
}

interface OutboxRow extends Record<string, unknown> {
  key: string;
  kind: string;
  status: string;
  attempts: number;
  recipient: string;
}

const outboxRows = (db: DatabaseHandle, kind: string) =>
  executeRows<OutboxRow>(
    db.db,
    sql`select key, kind, status, attempts, recipient_aad_object_id as recipient from outbox where kind = ${kind} order by key`,
  );

/** What a card submits, as stored: multi-selects are comma-separated in a card and may be kept as a list. */
function typedValue(stored: unknown): string {
  return Array.isArray(stored) ? stored.join(',') : String(stored);
}

describe.skipIf(!hasPostgres)('two bot processes on one PostgreSQL database', () => {
  let db: TestDatabase | undefined;
  let handle: DatabaseHandle | undefined;
  let connector: FakeConnector | undefined;
  const bots: BotProcess[] = [];

  afterEach(async () => {
    for (const b of bots.splice(0)) await kill(b);
    await handle?.close();
    await connector?.stop();
    await db?.drop();
    db = undefined;
    handle = undefined;
    connector = undefined;
  });

  it('serve one referral turn by turn in alternation, notify the area once, remind once, and stop cleanly on SIGTERM', async () => {
    db = await createTestDatabase('postgres');
    connector = await new FakeConnector().start();
    const env = {
      PORT: '0',
      DATABASE_URL: db.url!,
      DATABASE_POOL_SIZE: '3',
      INSTANCES: '2',
      OUTBOX_POLL_MS: '200',
      REMINDER_SWEEP_MS: '1000',
      LOG_LEVEL: 'info',
      ...testFieldKeys,
    };
    // Started together, as a deployment starts its instances: both migrate the empty database (under an advisory lock).
    const [a, b] = await Promise.all([startBot('instance A', env), startBot('instance B', env)]);
    bots.push(a, b);
    expect(a.url).not.toBe(b.url);
    handle = await db.open();

    const alex = new Chat('alex', connector);
    const megan = new Chat('megan', connector);
    const isaiah = new Chat('isaiah', connector);
    await alex.install(a);
    await megan.install(b);
    await isaiah.install(a);

    // ── The referral: each turn on the other instance. ──
    const answers = validAnswers();
    const instances = [a, b];
    let turn = 0;
    const next = () => instances[turn++ % 2]!;

    const [first] = await alex.say(next(), 'refer');
    expect(first, 'the first step after "refer"').toBeDefined();
    const draftId = draftIdOf(first!);
    let card = first!;
    for (const step of wizardSteps) {
      card = await alex.execute(next(), 'wizard.next', { draftId, step, fromReview: '', ...answers[step] });
    }
    const review = cardText(card);
    expect(review).toContain(answers.aboutPerson!.firstName);
    expect(review).toContain(answers.concern!.whatSeenOrHeard);
    const ack = await alex.execute(next(), 'wizard.submit', { draftId, declaration: 'true' });
    const reference = /[A-Z]{2,5}-\d{4}-\d{6}/.exec(cardText(ack))?.[0];
    expect(reference, cardText(ack)).toBeDefined();
    expect(turn).toBe(wizardSteps.length + 2); // refer, five steps, submit: seven turns over two processes

    // The row holds every answer as typed, whichever process took which step (narrative text sealed with the instances' key).
    const [row] = await executeRows<{ answers: Record<string, Record<string, unknown>>; area_id: string; referrer: string; status: string }>(
      handle.db,
      sql`select answers, area_id, referrer_aad_object_id as referrer, status from referrals where reference = ${reference}`,
    );
    expect(row).toMatchObject({ area_id: 'northgate', referrer: people.alex.aadObjectId, status: 'received' });
    expect(isEncrypted(row!.answers.concern?.whatSeenOrHeard)).toBe(true);
    installFieldCipher(cipherFromSource(loadFieldKeys(testFieldKeys)).cipher);
    const stored = openAnswers('referrals.answers', row!.answers);
    for (const step of wizardSteps) {
      for (const [field, typed] of Object.entries(answers[step]!)) {
        const kept = stored[step]?.[field];
        expect(kept === undefined ? kept : typedValue(kept), `${step}.${field}`).toBe(typed);
      }
    }

    // ── The new-referral notice: the trained officers of Northgate (Megan; Isaiah, its supervisor; not Lynne, whose training lapsed), once each. ──
    const notified = await until(
      'the new-referral notices to be sent',
      async () => {
        const rows = await outboxRows(handle!, 'referral.new');
        return rows.length > 0 && rows.every((r) => r.status === 'sent') ? rows : undefined;
      },
      20_000,
    );
    await sleep(1500); // several outbox polls of both processes: nothing more goes out
    expect(await outboxRows(handle, 'referral.new')).toEqual(notified);
    expect(notified.map((r) => r.recipient).sort()).toEqual([people.megan.aadObjectId, people.isaiah.aadObjectId].sort());
    expect(notified.map((r) => Number(r.attempts))).toEqual([1, 1]);
    expect(megan.cardsMentioning(reference!)).toHaveLength(1);
    expect(isaiah.cardsMentioning(reference!)).toHaveLength(1);
    expect(connector.sent.filter((s) => s.conversationId.endsWith(people.lynne.aadObjectId))).toHaveLength(0);

    // ── Reminders: Megan opens a Channel case and gives three actions due tomorrow, turn by turn on either process. ──
    const [referralCard] = (await megan.say(next(), `case ${reference}`)).filter((c) => cardText(c).includes(reference!));
    expect(referralCard, `Megan's case ${reference}`).toBeDefined();
    const form = await megan.press(next(), referralCard!, 'Record gateway assessment');
    const triaged = await megan.press(next(), form, 'Save', channelTriage);
    expect(cardText(triaged)).toContain(reference!);
    const dueOn = nextDay(londonDate(new Date()));
    const titles = ['Home visit with the family', 'Ask the school for attendance', 'Book the mentor'];
    for (const title of titles) {
      const added = await megan.execute(next(), 'case.submit', { reference, form: 'action', title, owner: people.megan.aadObjectId, dueOn });
      expect(cardText(added)).toContain('Action added.');
    }

    // Both processes sweep every second; each action is reminded once.
    const reminded = await until(
      'the three due-tomorrow reminders to be sent',
      async () => {
        const rows = await outboxRows(handle!, 'action.dueTomorrow');
        return rows.length === titles.length && rows.every((r) => r.status === 'sent') ? rows : undefined;
      },
      20_000,
    );
    await sleep(3000); // three more sweeps and fifteen outbox polls on each process
    expect(await outboxRows(handle, 'action.dueTomorrow')).toEqual(reminded);
    expect(reminded.every((r) => r.recipient === people.megan.aadObjectId && Number(r.attempts) === 1)).toBe(true);
    for (const title of titles) expect(megan.cardsMentioning(title), `reminders of "${title}"`).toHaveLength(1);

    // Both processes served turns and nothing failed in either.
    for (const bot of bots) expect(bot.output.filter((l) => /"level":(50|60)/.test(l)), `errors logged by ${bot.name}`).toEqual([]);

    // ── SIGTERM: each stops taking requests, finishes, closes the database and exits 0 well before the forced exit (15 s). ──
    const stopping = Date.now();
    for (const bot of bots) bot.proc.kill('SIGTERM');
    await Promise.all(bots.map((bot) => bot.exited));
    expect(Date.now() - stopping).toBeLessThan(10_000);
    for (const bot of bots) {
      expect(bot.proc.exitCode, `${bot.name} exit code`).toBe(0);
      expect(bot.output.some((l) => l.includes('shutting down'))).toBe(true);
    }
  }, 180_000);
});
