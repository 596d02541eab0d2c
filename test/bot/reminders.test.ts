/**
 * Reminders end to end: the sweep queues them from the database, the outbox
 * delivers them through the fake Bot Connector, and each arrives once —
 * due tomorrow, due today, overdue, escalated to the supervisor once, triage
 * due and overdue, the 08:00 digest, in London time across the clock
 * changes; blocked and never-installed officers are reported to their
 * supervisor.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { Harness, people, type Card } from '../harness/harness.js';
import { testDatabases } from '../harness/databases.js';
import { freshHarnessEach } from '../harness/fresh.js';
import { cardText } from '../harness/cards.js';
import { submitReferral, validAnswers } from '../harness/referral.js';
import { channelTriage, press, triage } from '../harness/officer.js';
import { messagesFor } from '../../src/db/repositories/outbox.js';

let clock = new Date('2026-11-30T10:00:00Z'); // Monday

describe.each(testDatabases())('reminders on %s', (kind) => {
  beforeEach(() => {
    clock = new Date('2026-11-30T10:00:00Z');
  });
  const harness = freshHarnessEach(kind, { now: () => clock });
  let h: Harness;
  beforeEach(() => {
    h = harness();
  });

  /** Runs the sweep and delivers what it queued. */
  const sweep = async () => {
    await h.service.sweeper.runOnce();
    await h.deliverOutbox();
  };
  const cardsOf = (who: keyof typeof people) => h.connector.cardsIn(h.user(who).conversationId).map(cardText);
  const reminders = (who: keyof typeof people, pattern: RegExp) => cardsOf(who).filter((t) => pattern.test(t));

  /** A Channel case owned by Megan with one action due on `dueOn`; returns the case card. */
  async function caseWithAction(dueOn: string, area: 'northgate' | 'southbridge' = 'northgate', officer: 'megan' | 'adele' = 'megan'): Promise<{ reference: string; card: Card }> {
    const { reference } = await submitReferral(h.user('alex'), validAnswers({ aboutPerson: { area } }));
    let card = await triage(h.user(officer), reference, channelTriage);
    card = await press(h.user(officer), card, 'Add action');
    card = await press(h.user(officer), card, 'Save', { title: 'Home visit', owner: people[officer].aadObjectId, dueOn });
    expect(cardText(card)).toContain('Action added.');
    return { reference, card };
  }

  it('reminds the owner the day before, on the day and when overdue, each once, and escalates to the supervisor once after 3 working days', async () => {
    for (const who of ['megan', 'isaiah', 'alex'] as const) await h.user(who).install();
    const { reference } = await caseWithAction('2026-12-01'); // Tuesday
    await sweep();
    expect(reminders('megan', /An action is due tomorrow/)).toHaveLength(1);
    expect(reminders('megan', /An action is due tomorrow/)[0]).toContain('Home visit');
    expect(reminders('megan', /An action is due tomorrow/)[0]).toContain(`Case ${reference}`);
    await sweep();
    expect(reminders('megan', /An action is due/)).toHaveLength(1); // nothing twice

    clock = new Date('2026-12-01T07:00:00Z');
    await sweep();
    await sweep();
    expect(reminders('megan', /An action is due today/)).toHaveLength(1);

    clock = new Date('2026-12-02T07:00:00Z'); // Wednesday: overdue by 1 working day
    await sweep();
    expect(reminders('megan', /An action is overdue/)).toHaveLength(1);
    expect(reminders('isaiah', /Escalation/)).toHaveLength(0);

    clock = new Date('2026-12-04T16:00:00Z'); // Friday: 3 working days overdue, not more
    await sweep();
    expect(reminders('isaiah', /Escalation/)).toHaveLength(0);

    clock = new Date('2026-12-07T07:00:00Z'); // Monday: 4 working days overdue
    await sweep();
    await sweep();
    const escalations = reminders('isaiah', /Escalation/);
    expect(escalations).toHaveLength(1);
    expect(escalations[0]).toContain('owner: Megan Bowen');
    expect(reminders('megan', /Escalation/)).toHaveLength(0); // Megan is no supervisor
    expect(reminders('megan', /An action is overdue/)).toHaveLength(1);
    // The referrer hears nothing about actions.
    expect(reminders('alex', /action/i)).toHaveLength(0);
  });

  it("lists what is due for me with 'due', overdue first, and refuses it to people without case access", async () => {
    const { reference } = await caseWithAction('2026-12-01');
    const { reference: later } = await caseWithAction('2026-12-09');
    const untriaged = await submitReferral(h.user('alex'));
    clock = new Date('2026-12-02T09:00:00Z'); // the first action is overdue; the untriaged one is due 7 Dec
    // A proactive notice may arrive in the chat at the same moment: read the reply to the command.
    const dueCard = async (who: keyof typeof people) => (await h.user(who).say('due')).map(cardText).find((t) => /Due for you|Something needs attention/.test(t)) ?? '';
    const text = await dueCard('megan');
    expect(text).toContain('Overdue since 1 Dec 2026: Home visit');
    expect(text).toContain(`Case ${reference}`);
    expect(text).not.toContain(later); // due 9 Dec: not yet
    expect(text).not.toContain(untriaged.reference); // triage due 7 Dec: not yet
    clock = new Date('2026-12-07T09:00:00Z');
    expect(await dueCard('megan')).toContain(`Triage of ${untriaged.reference} is due today`);
    for (const who of ['alex', 'patti'] as const) expect(await dueCard(who)).toContain('You do not have access');
    expect(await dueCard('lynne')).toContain('training has expired');
  });

  it('sends no reminder for an action completed before it fell due', async () => {
    await h.user('megan').install();
    let { card } = await caseWithAction('2026-12-01');
    card = await press(h.user('megan'), card, 'Complete');
    await press(h.user('megan'), card, 'Save', { note: 'Done early' });
    clock = new Date('2026-12-03T09:00:00Z');
    await sweep();
    expect(reminders('megan', /An action/)).toHaveLength(0);
  });

  it('tells the area of a triage due today and then overdue, and stops once it is triaged', async () => {
    for (const who of ['megan', 'adele', 'isaiah'] as const) await h.user(who).install();
    const { reference } = await submitReferral(h.user('alex')); // Mon 30 Nov → due Mon 7 Dec
    await sweep();
    expect(reminders('megan', /triage/i).filter((t) => !t.includes('New referral'))).toHaveLength(0);

    clock = new Date('2026-12-07T08:30:00Z');
    await sweep();
    await sweep();
    expect(reminders('megan', /A triage is due today/)).toHaveLength(1);
    expect(reminders('isaiah', /A triage is due today/)).toHaveLength(1);
    expect(reminders('adele', /triage/i)).toHaveLength(0); // Southbridge

    clock = new Date('2026-12-08T08:30:00Z');
    await sweep();
    expect(reminders('megan', /A triage is overdue/)).toHaveLength(1);
    expect(reminders('megan', /A triage is overdue/)[0]).toContain(reference);

    await triage(h.user('megan'), reference, { outcome: 'no_further_action', rationale: 'Below threshold', contactMade: 'no' });
    clock = new Date('2026-12-09T08:30:00Z');
    await sweep();
    expect(reminders('megan', /A triage/)).toHaveLength(2);
  });

  it('gathers non-urgent reminders into one 08:00 digest for people who chose it; overdue ones still come at once', async () => {
    await h.user('megan').install();
    const [settings] = await h.user('megan').say('settings');
    expect(cardText(settings!)).toContain('Reminders of things due');
    const saved = await press(h.user('megan'), settings!, 'Save', { reminderMode: 'digest' });
    expect(cardText(saved)).toContain('Saved.');

    await caseWithAction('2026-12-01');
    await caseWithAction('2026-12-01');
    clock = new Date('2026-11-30T12:00:00Z');
    await sweep();
    expect(reminders('megan', /due tomorrow|digest|reminders this morning/i)).toHaveLength(0); // held

    clock = new Date('2026-12-01T07:59:00Z');
    await sweep();
    expect(reminders('megan', /reminders this morning/)).toHaveLength(0);

    clock = new Date('2026-12-01T08:00:00Z');
    await sweep();
    await sweep();
    const digests = reminders('megan', /Your reminders this morning/);
    expect(digests).toHaveLength(1);
    // Held on Monday as "due tomorrow"; read on Tuesday morning it says what is true now.
    expect(digests[0]).toContain('Due today: Home visit');
    // The same sweep found them due today: held again for tomorrow's digest, not sent alone.
    expect(reminders('megan', /An action is due/)).toHaveLength(0);

    clock = new Date('2026-12-02T09:00:00Z');
    await sweep();
    expect(reminders('megan', /An action is overdue/)).toHaveLength(2); // urgent: at once
  });

  it('reads "tomorrow" and "today" in London time across the clock changes', async () => {
    await h.user('megan').install();
    // Autumn: clocks go back at 01:00 UTC on Sunday 25 October 2026.
    clock = new Date('2026-10-23T10:00:00Z');
    await caseWithAction('2026-10-25');
    clock = new Date('2026-10-23T23:30:00Z'); // 00:30 BST on Saturday 24th
    await sweep();
    expect(reminders('megan', /due tomorrow/)).toHaveLength(1);
    clock = new Date('2026-10-24T23:30:00Z'); // 00:30 BST on Sunday 25th (before the change)
    await sweep();
    expect(reminders('megan', /due today/)).toHaveLength(1);

    // Spring: clocks go forward at 01:00 UTC on Sunday 28 March 2027.
    clock = new Date('2027-03-26T10:00:00Z');
    await caseWithAction('2027-03-29');
    clock = new Date('2027-03-27T23:30:00Z'); // 23:30 GMT on Saturday 27th: Monday is not yet tomorrow
    await sweep();
    expect(reminders('megan', /due tomorrow/)).toHaveLength(1);
    clock = new Date('2027-03-28T23:30:00Z'); // 00:30 BST on Monday 29th
    await sweep();
    expect(reminders('megan', /due today/)).toHaveLength(2);
  });

  it('tells the supervisor when an officer has blocked the app or never installed it, and stops trying them', async () => {
    for (const who of ['megan', 'isaiah'] as const) await h.user(who).install();
    const megan = h.user('megan').conversationId;
    // Proactive sends to Megan are refused; replies to what she types (to the harness's "in-…" activity ids) still go through.
    const proactive = (a: Record<string, unknown>) => !String(a.replyToId ?? '').startsWith('in-');
    h.connector.respond = ({ conversationId, activity }) => (conversationId === megan && proactive(activity) ? { status: 403 } : undefined);
    await caseWithAction('2026-12-01');
    await sweep();
    const notices = reminders('isaiah', /cannot be reached/);
    expect(notices).toHaveLength(1);
    expect(notices[0]).toContain('Megan Bowen');
    expect(notices[0]).toContain('removed or blocked');
    const attemptsBefore = h.connector.sent.length;

    // Later messages are not attempted while she is unreachable…
    clock = new Date('2026-12-01T07:00:00Z');
    await sweep();
    const rows = await messagesFor(h.service.database.db, people.megan.aadObjectId);
    expect(rows.every((r) => r.status === 'unreachable')).toBe(true);
    expect(h.connector.sent.length).toBe(attemptsBefore);
    // …until she opens the app again.
    h.connector.respond = () => undefined;
    await h.user('megan').say('help');
    await caseWithAction('2026-12-02');
    await sweep();
    expect(reminders('megan', /due tomorrow/)).toHaveLength(1);

    // Adele (Southbridge) has never opened the app (no conversation stored): Isaiah, supervisor there too, is told.
    await submitReferral(h.user('alex'), validAnswers({ aboutPerson: { area: 'southbridge' } }));
    await h.deliverOutbox();
    const adele = reminders('isaiah', /Adele Vance cannot be reached/);
    expect(adele).toHaveLength(1);
    expect(adele[0]).toContain('not installed');
    expect((await messagesFor(h.service.database.db, people.adele.aadObjectId)).map((r) => r.status)).toEqual(['unreachable']);
  });
});
