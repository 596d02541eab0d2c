/**
 * An officer's work on a referral, end to end over HTTP: the queue, the
 * gateway assessment, and every case action, with the referrer told of each
 * status change and nothing more.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { Harness, people, type Card } from '../harness/harness.js';
import { testDatabases } from '../harness/databases.js';
import { freshHarnessEach } from '../harness/fresh.js';
import { cardInputs, cardText } from '../harness/cards.js';
import { submitReferral, validAnswers } from '../harness/referral.js';
import { channelTriage, openCase, press, triage } from '../harness/officer.js';
import { verifyAuditChain } from '../../src/app/audit.js';
import { auditLog, cases as casesTable } from '../../src/db/schema.js';
import { eq } from 'drizzle-orm';

/** Friday 27 November 2026, 10:00 London (GMT). */
let clock = new Date('2026-11-27T10:00:00Z');

describe.each(testDatabases())('officers on %s', (kind) => {
  beforeEach(() => {
    clock = new Date('2026-11-27T10:00:00Z');
  });
  const harness = freshHarnessEach(kind, { now: () => clock });
  let h: Harness;
  beforeEach(() => {
    h = harness();
  });

  it('lists the untriaged referrals of my areas, oldest first, with age and a working-day due date', async () => {
    const first = await submitReferral(h.user('alex'));
    clock = new Date('2026-11-30T09:00:00Z'); // Monday
    const second = await submitReferral(h.user('alex'));
    await submitReferral(h.user('alex'), validAnswers({ aboutPerson: { area: 'southbridge' } }));

    const [queue] = await h.user('megan').say('queue');
    const text = cardText(queue!);
    expect(text).toContain('Showing 2 of 2, oldest first');
    expect(text.indexOf(first.reference)).toBeLessThan(text.indexOf(second.reference));
    // Received Friday 27 Nov: five working days on is Friday 4 Dec.
    expect(text).toContain('Triage due 4 Dec 2026');
    expect(text).toContain('(3 days ago)');
    // Received Monday 30 Nov: due Monday 7 Dec.
    expect(text).toContain('Triage due 7 Dec 2026');
    expect(text).not.toContain('Southbridge');

    // Isaiah supervises both areas and sees all three.
    const [all] = await h.user('isaiah').say('queue');
    expect(cardText(all!)).toContain('Showing 3 of 3');
  });

  it('closes the referral on no further action, tells the referrer the status only, and takes it off the queue', async () => {
    await h.user('alex').install();
    const { reference } = await submitReferral(h.user('alex'));
    const before = h.connector.cardsIn(h.user('alex').conversationId).length;
    const saved = await triage(h.user('megan'), reference, { outcome: 'no_further_action', rationale: 'Below threshold: **misunderstanding**.', contactMade: 'no' });
    expect(cardText(saved)).toContain('Gateway assessment saved. The referral is closed.');
    expect(cardText(saved)).toContain('No further action');
    expect(cardText(saved)).not.toContain('[Record gateway assessment]');

    const [queue] = await h.user('megan').say('queue');
    expect(cardText(queue!)).not.toContain(reference);

    await h.deliverOutbox();
    const told = h.connector.cardsIn(h.user('alex').conversationId).slice(before).map(cardText);
    expect(told).toHaveLength(1);
    expect(told[0]).toContain(`Update on your referral ${reference}`);
    expect(told[0]).toContain('closed');
    expect(told[0]).not.toMatch(/further action|threshold|misunderstanding/i);
    const [mine] = await h.user('alex').say('my referrals');
    expect(cardText(mine!)).toContain('Closed');
  });

  it('opens a police-led case without a Channel panel, and refuses a panel decision on it', async () => {
    const { reference } = await submitReferral(h.user('alex'));
    const card = await triage(h.user('megan'), reference, { outcome: 'police_led', rationale: 'Police lead with partners', contactMade: 'no' });
    expect(cardText(card)).toContain('Police-led partnership');
    expect(cardText(card)).not.toContain('Panel decision');
    expect(cardText(card)).not.toContain('Channel panel');
    const forged = await h.user('megan').execute('case.form', { reference, form: 'panel' });
    expect(cardText(forged)).toContain('That request could not be read');
  });

  it('asks where to when signposting, and keeps what was typed', async () => {
    const { reference } = await submitReferral(h.user('alex'));
    const referral = await openCase(h.user('megan'), reference);
    const form = await press(h.user('megan'), referral, 'Record gateway assessment');
    const again = await press(h.user('megan'), form, 'Save', { outcome: 'signposted', rationale: 'Needs mental health support', contactMade: 'yes' });
    expect(cardText(again)).toContain('Please check the answers marked below.');
    expect(cardInputs(again).find((i) => i.id === 'rationale')?.value).toBe('Needs mental health support');
    const saved = await press(h.user('megan'), again, 'Save', { outcome: 'signposted', signpostedTo: 'CAMHS', rationale: 'Needs mental health support', contactMade: 'yes' });
    expect(cardText(saved)).toContain('Signposted to another service');
    expect(cardText(saved)).toContain('CAMHS');
  });

  it('opens a case owned by the officer on a Channel referral and works it: consent, vulnerability trend, intervention, actions, note, correction, closure', async () => {
    await h.user('alex').install();
    const megan = h.user('megan');
    const { reference } = await submitReferral(h.user('alex'));
    const before = h.connector.cardsIn(h.user('alex').conversationId).length;
    let card: Card = await triage(megan, reference, channelTriage);
    expect(cardText(card)).toContain('A case is open with you as its owner');
    expect(cardText(card)).toContain(`Case ${reference}`);
    expect(cardText(card)).toContain('Megan Bowen');
    expect(cardText(card)).toContain('Jordan Testperson (15)');

    const [mine] = await megan.say('cases');
    expect(cardText(mine!)).toContain(`${reference} · Jordan Testperson`);

    // Consent: the person is 15, so who gave it is required.
    card = await press(megan, card, 'Update consent');
    card = await press(megan, card, 'Save', { status: 'given', decidedOn: '2026-11-26' });
    expect(cardText(card)).toContain('Please check the answers marked below.');
    card = await press(megan, card, 'Save', { status: 'given', decidedOn: '2026-11-26', givenBy: 'parentCarer', parentCarerName: 'Pat Testperson' });
    expect(cardText(card)).toContain('Consent updated.');
    expect(cardText(card)).toContain('Given on 26 Nov 2026 by Pat Testperson');

    // Vulnerability assessments over time: the trend follows the totals.
    const assess = async (assessedOn: string, e: string, i: string, c: string) => {
      card = await press(megan, card, 'Record vulnerability');
      card = await press(megan, card, 'Save', { assessedOn, engagement: e, intent: i, capability: c, engagementFactors: 'identity,groupInfluence' });
    };
    await assess('2026-11-20', '2', '1', '1');
    expect(cardText(card)).toContain('Trend: first assessment');
    await assess('2026-11-25', '3', '2', '1');
    expect(cardText(card)).toContain('Trend: rising ▲ (total 4 → 6)');
    await assess('2026-11-27', '1', '1', '0');
    expect(cardText(card)).toContain('Trend: falling ▼ (total 6 → 2)');
    expect(cardText(card)).toContain('Engagement 1 · intent 1 · capability 0 (total 2 of 9), assessed 27 Nov 2026');

    // An intervention and a later judgement on it.
    card = await press(megan, card, 'Add intervention');
    card = await press(megan, card, 'Save', { type: 'mentoring', provider: 'Northgate Mentoring', startOn: '2026-11-27', endOn: '2026-11-01', working: 'tooEarly' });
    expect(cardText(card)).toContain('The end date cannot be before the start date.');
    card = await press(megan, card, 'Save', { type: 'mentoring', provider: 'Northgate Mentoring', startOn: '2026-11-27', working: 'tooEarly' });
    expect(cardText(card)).toContain('Mentoring with Northgate Mentoring, from 27 Nov 2026');
    expect(cardText(card)).toContain('Working? Too early to say');
    card = await press(megan, card, 'Update');
    expect(cardInputs(card).find((i) => i.id === 'working')?.value).toBe('tooEarly');
    card = await press(megan, card, 'Save', { working: 'yes', note: 'Attending every week' });
    expect(cardText(card)).toContain('Working? Yes, it is working');

    // Actions: add (not in the past), reassign, complete.
    card = await press(megan, card, 'Add action');
    card = await press(megan, card, 'Save', { title: 'Home visit', owner: people.megan.aadObjectId, dueOn: '2026-11-01' });
    expect(cardText(card)).toContain('This date cannot be in the past.');
    card = await press(megan, card, 'Save', { title: 'Home visit', owner: people.megan.aadObjectId, dueOn: '2026-12-02' });
    expect(cardText(card)).toContain('Home visit · Megan Bowen · due 2 Dec 2026');
    card = await press(megan, card, 'Reassign');
    card = await press(megan, card, 'Save', { owner: people.isaiah.aadObjectId });
    expect(cardText(card)).toContain('Home visit · Isaiah Langer · due 2 Dec 2026');
    card = await press(megan, card, 'Complete');
    card = await press(megan, card, 'Save', { note: 'Visited; family supportive' });
    expect(cardText(card)).toContain('Action completed.');
    expect(cardText(card)).toContain('No open actions.');

    // A note, then a correction of it: the original stays in the chronology.
    card = await press(megan, card, 'Add note');
    card = await press(megan, card, 'Save', { text: 'Spoke to the scool' });
    let chron = await press(megan, card, 'Chronology');
    expect(cardText(chron)).toContain('Spoke to the scool');
    const fix = await press(megan, chron, 'Correct');
    expect(cardInputs(fix).find((i) => i.id === 'text')?.value).toBe('Spoke to the scool');
    card = await press(megan, fix, 'Save', { text: 'Spoke to the school', correctionReason: 'Spelling' });
    expect(cardText(card)).toContain('Correction saved.');
    chron = await press(megan, card, 'Chronology');
    const chronText = cardText(chron);
    expect(chronText).toContain('Spoke to the school');
    expect(chronText).toContain('Reason: Spelling');
    expect(chronText).toContain('Corrected by a later entry.');
    expect(chronText).toMatch(/Page 1 of 2, newest first/);
    const older = await press(megan, chron, 'Older');
    expect(cardText(older)).toContain('Case opened: Referred to the Channel panel');

    // Contact with the person, recorded when it is made.
    card = await openCase(megan, reference);
    expect(cardText(card)).toContain('Contact: Made by the time of triage');
    card = await press(megan, card, 'Record contact');
    card = await press(megan, card, 'Save', { madeOn: '2026-11-25', method: 'inPerson', note: 'Met at school with a parent' });
    expect(cardText(card)).toContain('Contact recorded.');
    expect(cardText(card)).toContain('Contact: Last made 25 Nov 2026 (In person)');

    // The Channel panel's decision: shown on the card, kept on the case for the statistics.
    card = await openCase(megan, reference);
    expect(cardText(card)).toContain('Channel panel: Not yet decided');
    card = await press(megan, card, 'Panel decision');
    card = await press(megan, card, 'Save', { decision: 'adopted', decidedOn: '2026-11-26', note: 'Adopted with mentoring support' });
    expect(cardText(card)).toContain('Panel decision recorded.');
    expect(cardText(card)).toContain('Channel panel: Adopted as a Channel case (26 Nov 2026)');
    const [row] = await h.service.database.db.select({ panel: casesTable.panelDecision }).from(casesTable);
    expect(row?.panel).toBe('adopted');

    // Closing a Channel case schedules reviews 6 and 12 months on, and tells the referrer.
    card = await openCase(megan, reference);
    card = await press(megan, card, 'Close case');
    card = await press(megan, card, 'Save', { reason: 'riskReduced', note: 'Engaged well with mentoring; risk reduced.' });
    const closed = cardText(card);
    expect(closed).toContain('Case closed.');
    expect(closed).toContain('Channel review: 6 months after closure · Megan Bowen · due 27 May 2027');
    expect(closed).toContain('Channel review: 12 months after closure · Megan Bowen · due 27 Nov 2027');
    expect(closed).not.toContain('[Close case]');
    expect(closed).not.toContain('[Update consent]');

    await h.deliverOutbox();
    const told = h.connector.cardsIn(h.user('alex').conversationId).slice(before).map(cardText);
    expect(told).toHaveLength(2); // being assessed, then closed
    expect(told.join('\n')).toContain('Being assessed');
    expect(told.join('\n')).not.toMatch(/Channel|mentoring|vulnerab/i);

    const [cases] = await megan.say('cases');
    expect(cardText(cases!)).toContain('You have no open cases.');

    // Every view and change is on the audit chain, which verifies.
    const db = h.service.database.db;
    expect((await verifyAuditChain(db)).problem).toBeUndefined();
    const actions = new Set((await db.select({ action: auditLog.action }).from(auditLog).where(eq(auditLog.actorAadObjectId, people.megan.aadObjectId))).map((r) => r.action));
    for (const a of ['cases.view', 'referral.view', 'referral.triage', 'case.open', 'case.view', 'case.consent', 'case.vulnerability', 'case.intervention', 'case.interventionReview', 'case.action', 'case.actionReassign', 'case.actionComplete', 'case.note', 'case.correct', 'case.chronology', 'case.contact', 'case.panel', 'case.close']) {
      expect(actions, a).toContain(a);
    }
  });
});
