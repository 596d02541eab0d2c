/**
 * Risk-based access requests over HTTP (DESIGN §6): officers of another area
 * and partner-agency staff find a record (by reference, or by last name and
 * date of birth without learning the reference), ask its area's supervisors
 * for a scoped, time-limited, read-only grant, and see only what it covers
 * until it ends. Employment, education and vetting purposes are refused at
 * once. Every search, decision and view is audited.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { and, eq } from 'drizzle-orm';
import { Harness, people, type Card } from '../harness/harness.js';
import { testDatabases } from '../harness/databases.js';
import { freshHarnessEach } from '../harness/fresh.js';
import { action, cardActions, cardText, fieldErrors } from '../harness/cards.js';
import { submitReferral, validAnswers } from '../harness/referral.js';
import { channelTriage, press, triage } from '../harness/officer.js';
import { accessRequests, auditLog, caseEntries, outbox, referrals, transfers } from '../../src/db/schema.js';

type Person = keyof typeof people;

/** Monday 1 March 2027, 10:00 London (GMT). A grant made now for 7 days ends on 8 Mar 2027, 10:00. */
const START = new Date('2027-03-01T10:00:00Z');
const DAY = 24 * 60 * 60 * 1000;
let clock = START;

const concern = validAnswers().concern!;
const person = validAnswers().aboutPerson!;
const CASE_NOTE = 'Home visit: mother worried about the older brother’s friends.';

/** What Lidia asks for: summary and vulnerabilities, for 7 days (a multi-select arrives comma-separated, as Teams sends it). */
const risk = {
  purpose: 'safeguardingRisk',
  purposeDetail: '',
  justification: 'We are placing a younger sibling in the household this week and must assess the risk first.',
  scopes: 'summary,vulnerabilities',
  days: '7',
};

describe.each(testDatabases())('access requests on %s', (kind) => {
  beforeEach(() => {
    clock = START;
  });
  const harness = freshHarnessEach(kind, { now: () => clock });
  let h: Harness;
  beforeEach(() => {
    h = harness();
  });
  afterEach(() => {
    // Every card the bot sent, replies and proactive, is fully worded: no message parameter left unfilled.
    for (const s of h.connector.sent) for (const a of s.activity.attachments ?? []) expect(cardText(a.content), 'an unfilled {parameter}').not.toMatch(/\{[a-zA-Z]+\}/);
  });

  const db = () => h.service.database.db;
  const audits = (what: string) => db().select().from(auditLog).where(eq(auditLog.action, what));
  const titles = (card: Card) => cardActions(card).map((a) => a.title);

  /** Cards the bot sent into someone's chat on its own (not replies to a message they typed), with the connector's record of each. */
  const proactive = (who: Person) =>
    h.connector.sent
      .filter((s) => s.conversationId === h.user(who).conversationId && s.method === 'POST' && !String(s.activity.replyToId ?? '').startsWith('in-'))
      .flatMap((s) => (s.activity.attachments ?? []).map((a) => ({ card: a.content, sent: s })));
  const accessCards = (who: Person) => proactive(who).filter((c) => /^Access request/m.test(cardText(c.card)));

  async function installAll(): Promise<void> {
    for (const who of ['megan', 'adele', 'isaiah', 'nestor', 'grady', 'johanna', 'lidia'] as const) await h.user(who).install();
  }

  /**
   * A Northgate Channel case owned by Megan, with a vulnerability assessment,
   * consent and a case note on it. Everything proactive so far is delivered and
   * forgotten.
   */
  async function northgateCase(): Promise<{ reference: string; referralId: string }> {
    await installAll();
    const { reference } = await submitReferral(h.user('alex'));
    await triage(h.user('megan'), reference, channelTriage);
    const megan = h.user('megan');
    const vuln = await megan.execute('case.submit', { reference, form: 'vulnerability', assessedOn: '2027-02-26', engagement: '2', intent: '1', capability: '1', notes: '' });
    expect(cardText(vuln)).toContain('Case PRV-');
    await megan.execute('case.submit', { reference, form: 'consent', status: 'given', decidedOn: '2027-02-26', givenBy: 'parentCarer', parentCarerName: 'Sam Testparent', note: '' });
    await megan.execute('case.submit', { reference, form: 'note', text: CASE_NOTE });
    const entryKinds = (await db().select().from(caseEntries)).map((e) => e.kind).sort();
    expect(entryKinds).toEqual(['consent', 'note', 'opened', 'vulnerability']);
    await h.deliverOutbox();
    h.connector.clear();
    const [row] = await db().select().from(accessRequests);
    expect(row).toBeUndefined();
    const referralId = await referralIdOf(reference);
    return { reference, referralId };
  }

  /** An Eastfield referral (no case yet); Nestor and Grady supervise Eastfield. */
  async function eastfieldReferral(): Promise<{ reference: string; referralId: string }> {
    const { reference } = await submitReferral(h.user('alex'), validAnswers({ aboutPerson: { area: 'eastfield' } }));
    await h.deliverOutbox();
    h.connector.clear();
    return { reference, referralId: await referralIdOf(reference) };
  }

  async function referralIdOf(reference: string): Promise<string> {
    const [row] = await db().select({ id: referrals.id }).from(referrals).where(eq(referrals.reference, reference));
    if (!row) throw new Error(`no referral ${reference}`);
    return row.id;
  }

  /** `access` → find by reference → the request form → Send request. Returns the card after sending. */
  async function requestAccess(who: Person, reference: string, inputs: Record<string, string> = risk): Promise<Card> {
    const [find] = await h.user(who).say('access');
    expect(cardText(find!)).toContain('Ask to see a record');
    const form = await press(h.user(who), find!, 'Find', { reference, lastName: '', dateOfBirth: '' });
    expect(cardText(form)).toContain(`Record ${reference} exists`);
    return press(h.user(who), form, 'Send request', inputs);
  }

  const requestIdOf = (card: Card): string => String(action(card, 'Withdraw request').data!.id);

  /** Lidia asks for the Northgate record, Isaiah grants it on his approval card; everything is delivered. */
  async function grantedToLidia() {
    const { reference, referralId } = await northgateCase();
    const sent = await requestAccess('lidia', reference);
    const id = requestIdOf(sent);
    await h.deliverOutbox();
    const isaiahCard = accessCards('isaiah').at(-1)!.card;
    const granted = await press(h.user('isaiah'), isaiahCard, 'Grant', { note: '' });
    expect(cardText(granted)).toContain('Granted by Isaiah Langer');
    await h.deliverOutbox();
    const decided = accessCards('lidia').find((c) => cardText(c.card).includes('Granted by Isaiah Langer'))!.card;
    return { reference, referralId, id, decided };
  }

  it('a partner asks by reference; only the area’s supervisor is asked, grants inline; the partner is told; every copy is updated in place', async () => {
    const { reference, referralId } = await northgateCase();
    const sent = await requestAccess('lidia', reference);
    expect(cardText(sent)).toContain('Request sent. You will be told when a supervisor decides.');
    expect(cardText(sent)).toContain('Waiting for a decision by Northgate’s supervisors');
    expect(titles(sent)).toEqual(['Withdraw request']);
    const id = requestIdOf(sent);

    const [row] = await db().select().from(accessRequests);
    expect(row).toMatchObject({
      id,
      referralId,
      areaId: 'northgate',
      requesterAadObjectId: people.lidia.aadObjectId,
      requesterRole: 'partner',
      purpose: 'safeguardingRisk',
      scopes: ['summary', 'vulnerabilities'],
      days: 7,
      status: 'pending',
      expiresAt: null,
    });
    expect((await audits('access.request')).map((a) => a.purpose)).toEqual(['safeguardingRisk']);

    await h.deliverOutbox();
    // Isaiah supervises Northgate: he is asked. Megan (an officer there, not a supervisor) and Eastfield's supervisors are not.
    const asked = accessCards('isaiah');
    expect(asked).toHaveLength(1);
    expect(proactive('megan')).toHaveLength(0);
    expect(accessCards('nestor')).toHaveLength(0);
    expect(accessCards('grady')).toHaveLength(0);
    const requests = await db().select().from(outbox).where(eq(outbox.kind, 'access.request'));
    expect(requests.map((r) => r.recipientAadObjectId)).toEqual([people.isaiah.aadObjectId]);

    const isaiahCard = asked[0]!.card;
    const text = cardText(isaiahCard);
    expect(text).toContain(`Access request: ${reference}`);
    expect(text).toContain('Lidia Holloway (partner agency)');
    expect(text).toContain('Purpose: Safeguarding risk to the person');
    expect(text).toContain('What you need: Summary, Vulnerabilities');
    expect(text).toContain('For: 7 days');
    expect(text).toContain(risk.justification);
    expect(isaiahCard.refresh).toMatchObject({ action: { type: 'Action.Execute', verb: 'approval.refresh', data: { subject: 'access', id } }, userIds: [`29:${people.isaiah.aadObjectId}`] });
    expect(titles(isaiahCard)).toEqual(['Grant', 'Decline']);

    const granted = await press(h.user('isaiah'), isaiahCard, 'Grant', { note: '' });
    expect(cardText(granted)).toContain('Granted. The requester has been told.');
    expect(cardText(granted)).toContain('Granted by Isaiah Langer on 1 Mar 2027, 10:00, until 8 Mar 2027, 10:00');
    expect(titles(granted)).toEqual([]);
    const [after] = await db().select().from(accessRequests);
    expect(after).toMatchObject({ status: 'granted', decidedByAadObjectId: people.isaiah.aadObjectId, expiresAt: new Date(START.getTime() + 7 * DAY) });
    const grants = await audits('access.grant');
    expect(grants).toHaveLength(1);
    expect(grants[0]).toMatchObject({ actorAadObjectId: people.isaiah.aadObjectId, entityId: id, purpose: 'safeguardingRisk' });

    await h.deliverOutbox();
    // Lidia is told, on a card that now names the record and opens it.
    const told = accessCards('lidia').map((c) => c.card);
    expect(told).toHaveLength(1);
    expect(cardText(told[0]!)).toContain(`Access request: ${reference}`);
    expect(cardText(told[0]!)).toContain('Granted by Isaiah Langer');
    expect(titles(told[0]!)).toEqual(['Open record']);
    expect(told[0]!.refresh).toMatchObject({ userIds: [`29:${people.lidia.aadObjectId}`] });

    // Every delivered approval card was brought up to date in place: a PUT to the activity id its POST was given.
    const delivered = h.connector.sent.filter((s) => s.method === 'POST' && !String(s.activity.replyToId ?? '').startsWith('in-'));
    const approvalPosts = delivered.filter((s) => (s.activity.attachments ?? []).some((a) => cardText(a.content).includes(`Access request: ${reference}`) && titles(a.content).includes('Grant')));
    expect(approvalPosts).toHaveLength(1);
    const puts = h.connector.sent.filter((s) => s.method === 'PUT');
    for (const post of approvalPosts) {
      const put = puts.find((p) => p.conversationId === post.conversationId && p.activityId === post.id);
      expect(put, `update of ${post.id}`).toBeDefined();
      const updated = put!.activity.attachments![0]!.content;
      expect(cardText(updated)).toContain('Granted by Isaiah Langer');
      expect(titles(updated)).not.toContain('Grant');
      expect(titles(updated)).not.toContain('Decline');
    }
  });

  it('under the grant the partner sees only what was asked for, read-only, and every view is audited with its purpose', async () => {
    const { reference, referralId, decided } = await grantedToLidia();
    const lidia = h.user('lidia');

    const viaButton = await press(lidia, decided, 'Open record');
    const [viaCommand] = (await lidia.say(`case ${reference}`)).filter((c) => cardText(c).includes('(read-only)'));
    expect(viaCommand).toBeDefined();
    for (const card of [viaButton, viaCommand!]) {
      const text = cardText(card);
      expect(text).toContain(`${reference} (read-only)`);
      expect(text).toContain('Shown under your access grant until 8 Mar 2027, 10:00');
      expect(text).toContain('Read-only. Only the parts you asked for are shown.');
      // Summary…
      expect(text).toContain(`${person.firstName} ${person.lastName}`);
      expect(text).toContain('Referred to the Channel panel');
      // …and vulnerabilities.
      expect(text).toContain('Vulnerability');
      expect(text).toContain('engagement 2, intent 1, capability 1 — total 4');
      // Not consent or contacts, not the concern as reported, not the chronology or its notes.
      expect(text).not.toContain('Consent and contacts');
      expect(text).not.toContain('Consent');
      expect(text).not.toContain('Sam Testparent');
      expect(text).not.toContain(concern.whatSeenOrHeard);
      expect(JSON.stringify(card)).not.toContain(concern.whatSeenOrHeard);
      expect(text).not.toContain('Case chronology');
      expect(JSON.stringify(card)).not.toContain(CASE_NOTE);
      // Read-only: nothing to press.
      expect(titles(card)).toEqual([]);
    }

    const views = await audits('record.view_under_grant');
    expect(views).toHaveLength(2);
    for (const a of views) {
      expect(a.actorAadObjectId).toBe(people.lidia.aadObjectId);
      expect(a.entityId).toBe(referralId);
      expect(a.purpose).toContain('safeguardingRisk');
    }

    // The grant is no way into the case forms: forged presses are refused and change nothing.
    const entriesBefore = (await db().select().from(caseEntries)).length;
    for (const [verb, data] of [
      ['case.form', { reference, form: 'note' }],
      ['case.submit', { reference, form: 'note', text: 'Added by the partner agency' }],
      ['case.submit', { reference, form: 'vulnerability', assessedOn: '2027-03-01', engagement: '3', intent: '3', capability: '3' }],
      ['case.open', { reference }],
      ['referral.view', { reference }],
      ['case.chronology', { reference, page: '1' }],
    ] as const) {
      const refused = await lidia.execute(verb, data);
      expect(cardText(refused), verb).toContain('You do not have access');
    }
    expect(await db().select().from(caseEntries)).toHaveLength(entriesBefore);
    // Still exactly the two views: the refused presses were not views under the grant.
    expect(await audits('record.view_under_grant')).toHaveLength(2);
  });

  it('a grant shows what its scopes cover: consent and contacts; or the full record, still read-only', async () => {
    const { reference } = await northgateCase();
    // Lidia asks for consent and contacts; Adele (an officer of Southbridge) for the full record.
    const lidiaSent = await requestAccess('lidia', reference, { ...risk, scopes: 'contacts', days: '3' });
    // "Other" needs explaining: the form comes back with the error, then goes.
    const adeleForm = await requestAccess('adele', reference, { ...risk, purpose: 'other', purposeDetail: '', scopes: 'full', days: '2' });
    expect(fieldErrors(adeleForm).purposeDetail).toBeTruthy();
    expect(await db().select().from(accessRequests)).toHaveLength(1);
    const adeleOk = await press(h.user('adele'), adeleForm, 'Send request', { ...risk, purpose: 'other', purposeDetail: 'Joint work with Southbridge youth services.', scopes: 'full', days: '2' });
    expect(cardText(adeleOk)).toContain('Request sent');
    await h.deliverOutbox();
    const asked = accessCards('isaiah').map((c) => c.card);
    expect(asked).toHaveLength(2);
    const forAdele = asked.find((c) => cardText(c).includes('Adele Vance'))!;
    expect(cardText(forAdele)).toContain('Adele Vance (officer, Southbridge)');
    expect(cardText(forAdele)).toContain('Joint work with Southbridge youth services.');
    expect(cardText(forAdele)).toContain('What you need: Full record');
    for (const card of asked) await press(h.user('isaiah'), card, 'Grant', { note: '' });

    const contacts = await h.user('lidia').execute('access.view', { id: requestIdOf(lidiaSent) });
    const ct = cardText(contacts);
    expect(ct).toContain('Shown under your access grant until 4 Mar 2027, 10:00');
    expect(ct).toContain('Consent and contacts');
    expect(ct).toMatch(/^Consent\nGiven$/m);
    expect(ct).not.toContain('engagement 2, intent 1, capability 1');
    expect(ct).not.toContain(concern.whatSeenOrHeard);

    const full = (await h.user('adele').say(`case ${reference}`)).find((c) => cardText(c).includes('(read-only)'))!;
    const ft = cardText(full);
    expect(ft).toContain('Shown under your access grant until 3 Mar 2027, 10:00');
    expect(ft).toContain('engagement 2, intent 1, capability 1 — total 4');
    expect(ft).toMatch(/^Consent\nGiven$/m);
    expect(ft).toContain(concern.whatSeenOrHeard);
    expect(ft).toContain('Case chronology');
    expect(titles(full)).toEqual([]);
    // The full grant is still no way to write.
    expect(cardText(await h.user('adele').execute('case.submit', { reference, form: 'note', text: 'Added by Southbridge' }))).toContain('You do not have access');
    const views = await audits('record.view_under_grant');
    expect(views.map((a) => [a.actorAadObjectId, a.purpose?.split(' ')[0]]).sort()).toEqual([
      [people.adele.aadObjectId, 'other'],
      [people.lidia.aadObjectId, 'safeguardingRisk'],
    ].sort());
    // Nobody else can open a grant with its id.
    expect(cardText(await h.user('isaiah').execute('access.view', { id: requestIdOf(lidiaSent) }))).toContain('You do not have access');
    expect(cardText(await h.user('adele').execute('access.view', { id: requestIdOf(lidiaSent) }))).toContain('You do not have access');
    expect(await audits('record.grant_view_denied')).toHaveLength(2);
    expect(await audits('record.view_under_grant')).toHaveLength(2);
  });

  it('warns the holder once, a day before the grant ends; after it ends the record is closed to them', async () => {
    const { reference, decided } = await grantedToLidia();
    const lidia = h.user('lidia');
    const warnings = () => accessCards('lidia').filter((c) => cardText(c.card).includes('Your access ends on'));

    // Five days in: too early to warn.
    clock = new Date(START.getTime() + 5 * DAY);
    await h.service.sweeper.runOnce();
    await h.deliverOutbox();
    expect(warnings()).toHaveLength(0);

    // 6 days and 1 hour in: within a day of the end. Two sweeps, one warning.
    clock = new Date(START.getTime() + 6 * DAY + 60 * 60 * 1000);
    await h.service.sweeper.runOnce();
    await h.service.sweeper.runOnce();
    await h.deliverOutbox();
    const warned = warnings();
    expect(warned).toHaveLength(1);
    expect(cardText(warned[0]!.card)).toContain('Your access ends on 8 Mar 2027, 10:00.');
    expect(await db().select().from(outbox).where(eq(outbox.kind, 'access.expiring'))).toHaveLength(1);
    // Still open until then.
    expect(cardText(await press(lidia, decided, 'Open record'))).toContain(`${reference} (read-only)`);
    const viewsBefore = (await audits('record.view_under_grant')).length;

    // A minute past the end.
    clock = new Date(START.getTime() + 7 * DAY + 60 * 1000);
    const ended = await press(lidia, decided, 'Open record');
    expect(cardText(ended)).toContain('This access has ended.');
    expect(cardText(ended)).not.toContain('(read-only)');
    const byCommand = await lidia.say(`case ${reference}`);
    expect(cardText(byCommand.at(-1)!)).toContain('You do not have access');
    expect(byCommand.some((c) => cardText(c).includes('(read-only)'))).toBe(false);
    const denied = await audits('record.grant_view_denied');
    expect(denied.length).toBeGreaterThanOrEqual(1);
    expect(denied.every((a) => a.actorAadObjectId === people.lidia.aadObjectId)).toBe(true);
    expect(await audits('record.view_under_grant')).toHaveLength(viewsBefore);
    await h.service.sweeper.runOnce();
    await h.deliverOutbox();
    expect(warnings()).toHaveLength(1);
    // Her list no longer shows the grant.
    const list = await lidia.say('approvals');
    expect(cardText(list.at(-1)!)).not.toContain('Your access, granted until');
  });

  /*
   * Regression: the access card once decided "granted" vs "ended", and
   * whether to offer "Open record", by the wall clock (`new Date()` in
   * src/bot/approval-views.ts) rather than the service's clock, so an ended
   * grant still said "Granted … until …" and offered "Open record".
   */
  it('shows an ended grant as ended, without an Open record button', async () => {
    const { decided } = await grantedToLidia();
    clock = new Date(START.getTime() + 7 * DAY + 60 * 1000);
    const ended = await press(h.user('lidia'), decided, 'Open record');
    expect(cardText(ended)).toContain('This access has ended.');
    expect(cardText(ended)).toContain('ended 8 Mar 2027, 10:00');
    expect(titles(ended)).not.toContain('Open record');
  });

  it('declining needs a note; the requester is told; stale cards and the other supervisor see the decision and change nothing', async () => {
    await installAll();
    const { reference } = await eastfieldReferral();
    const sent = await requestAccess('lidia', reference);
    const id = requestIdOf(sent);
    await h.deliverOutbox();
    const nestorCard = accessCards('nestor').at(-1)!.card;
    const gradyCard = accessCards('grady').at(-1)!.card;
    expect(accessCards('isaiah')).toHaveLength(0);

    const noNote = await press(h.user('nestor'), nestorCard, 'Decline', { note: '' });
    expect(fieldErrors(noNote).note).toBe('Say why you are declining.');
    expect((await db().select().from(accessRequests))[0]!.status).toBe('pending');

    const declined = await press(h.user('nestor'), nestorCard, 'Decline', { note: 'Speak to the case owner first; she will share what you need.' });
    expect(cardText(declined)).toContain('Declined. The requester has been told.');
    expect(cardText(declined)).toContain('Declined by Nestor Wilke');

    // Nestor presses Grant on his own stale card; Grady presses Grant on his.
    const again = await press(h.user('nestor'), nestorCard, 'Grant', { note: '' });
    expect(cardText(again)).toContain('Already decided: declined by Nestor Wilke');
    const late = await press(h.user('grady'), gradyCard, 'Grant', { note: '' });
    expect(cardText(late)).toContain('Already decided: declined by Nestor Wilke');
    expect(titles(late)).toEqual([]);

    const [row] = await db().select().from(accessRequests);
    expect(row).toMatchObject({ id, status: 'declined', decidedByAadObjectId: people.nestor.aadObjectId, expiresAt: null });
    expect(await audits('access.decline')).toHaveLength(1);
    expect(await audits('access.grant')).toHaveLength(0);

    await h.deliverOutbox();
    const told = accessCards('lidia').map((c) => c.card);
    expect(told).toHaveLength(1);
    expect(cardText(told[0]!)).toContain('Declined by Nestor Wilke');
    expect(cardText(told[0]!)).toContain('Speak to the case owner first');
    expect(titles(told[0]!)).not.toContain('Open record');
    // She cannot open it: no grant.
    expect(cardText(await h.user('lidia').execute('access.view', { id }))).toContain('This request has not been granted.');
    expect(await audits('record.view_under_grant')).toHaveLength(0);

    // Both supervisors' cards updated in place.
    for (const who of ['nestor', 'grady'] as const) {
      const post = accessCards(who)[0]!.sent;
      const put = h.connector.sent.find((s) => s.method === 'PUT' && s.conversationId === post.conversationId && s.activityId === post.id);
      expect(put, who).toBeDefined();
      expect(cardText(put!.activity.attachments![0]!.content)).toContain('Declined by Nestor Wilke');
      expect(titles(put!.activity.attachments![0]!.content)).toEqual([]);
    }

    // Asked again, granted by Grady: a late Decline from Nestor changes nothing.
    const second = await requestAccess('lidia', reference);
    const secondId = requestIdOf(second);
    expect(secondId).not.toBe(id);
    await h.deliverOutbox();
    const cardFor = (who: Person, requestId: string) => accessCards(who).find((c) => cardActions(c.card).some((a) => a.title === 'Grant' && a.data?.id === requestId))!.card;
    const gradyNew = cardFor('grady', secondId);
    const nestorNew = cardFor('nestor', secondId);
    expect(cardText(await press(h.user('grady'), gradyNew, 'Grant', { note: '' }))).toContain('Granted by Grady Archie');
    const stale = await press(h.user('nestor'), nestorNew, 'Decline', { note: 'No.' });
    expect(cardText(stale)).toContain('Already decided: granted by Grady Archie');
    expect(await audits('access.grant')).toHaveLength(1);
    expect(await audits('access.decline')).toHaveLength(1);
    const [secondRow] = await db().select().from(accessRequests).where(eq(accessRequests.id, secondId));
    expect(secondRow).toMatchObject({ status: 'granted', decidedByAadObjectId: people.grady.aadObjectId, decisionNote: null });
  });

  it('only the requester may withdraw; nobody but the area’s supervisors may decide; withdrawn cards say so', async () => {
    const { reference } = await northgateCase();
    const sent = await requestAccess('lidia', reference);
    const id = requestIdOf(sent);
    await h.deliverOutbox();
    const isaiahCard = accessCards('isaiah').at(-1)!.card;

    // Megan (officer of the area, not a supervisor), Adele (officer of another area), Alex (referrer); Lidia (her own request) is told why.
    for (const who of ['megan', 'adele', 'alex'] as const) {
      expect(cardText(await h.user(who).execute('access.grant', { id, note: '' })), who).toContain('You do not have access');
    }
    expect(cardText(await h.user('lidia').execute('access.grant', { id, note: '' }))).toContain('You asked for this yourself, so another supervisor must decide it.');
    expect(cardText(await h.user('adele').execute('access.decline', { id, note: 'forged' }))).toContain('You do not have access');
    for (const who of ['megan', 'adele', 'alex', 'isaiah'] as const) {
      expect(cardText(await h.user(who).execute('access.withdraw', { id })), who).toContain('You do not have access');
    }
    const [still] = await db().select().from(accessRequests);
    expect(still).toMatchObject({ status: 'pending', decidedByAadObjectId: null });
    expect(await audits('access.decide_denied')).toHaveLength(5);
    expect(await audits('access.withdraw_denied')).toHaveLength(4);

    // Refresh shows each their own card: the decider decides, the requester withdraws, an officer of the area sees the state only.
    expect(titles(await h.user('isaiah').execute('approval.refresh', { subject: 'access', id }))).toEqual(['Grant', 'Decline']);
    expect(titles(await h.user('lidia').execute('approval.refresh', { subject: 'access', id }))).toEqual(['Withdraw request']);
    const megan = await h.user('megan').execute('approval.refresh', { subject: 'access', id });
    expect(titles(megan)).toEqual([]);
    expect(cardText(megan)).not.toContain(risk.justification);
    expect(cardText(megan)).not.toContain('Lidia Holloway');
    for (const who of ['adele', 'alex', 'nestor'] as const) {
      expect(cardText(await h.user(who).execute('approval.refresh', { subject: 'access', id })), who).toContain('You do not have access');
    }

    const withdrawn = await press(h.user('lidia'), sent, 'Withdraw request');
    expect(cardText(withdrawn)).toContain('Withdrawn by Lidia Holloway');
    expect(titles(withdrawn)).toEqual([]);
    const late = await press(h.user('isaiah'), isaiahCard, 'Grant', { note: '' });
    expect(cardText(late)).toContain('Already withdrawn by Lidia Holloway');
    const [row] = await db().select().from(accessRequests);
    expect(row).toMatchObject({ status: 'withdrawn', expiresAt: null });
    expect(await audits('access.withdraw')).toHaveLength(1);
    expect(await audits('access.grant')).toHaveLength(0);
    // Withdrawing again changes nothing.
    expect(cardText(await h.user('lidia').execute('access.withdraw', { id }))).toContain('Already withdrawn by Lidia Holloway');
    expect(await audits('access.withdraw')).toHaveLength(1);

    await h.deliverOutbox();
    const post = accessCards('isaiah')[0]!.sent;
    const put = h.connector.sent.find((s) => s.method === 'PUT' && s.conversationId === post.conversationId && s.activityId === post.id);
    expect(put).toBeDefined();
    expect(cardText(put!.activity.attachments![0]!.content)).toContain('Withdrawn by Lidia Holloway');
    expect(titles(put!.activity.attachments![0]!.content)).toEqual([]);
    expect(await db().select().from(outbox).where(eq(outbox.kind, 'access.decided'))).toHaveLength(0);
  });

  it('a supervisor never decides a request they made themself', async () => {
    await installAll();
    const { reference } = await eastfieldReferral();
    // Isaiah is not an Eastfield officer: he asks Eastfield's supervisors.
    const sent = await requestAccess('isaiah', reference);
    expect(cardText(sent)).toContain('Request sent');
    const id = requestIdOf(sent);
    await h.deliverOutbox();
    expect(accessCards('nestor')).toHaveLength(1);
    expect(accessCards('grady')).toHaveLength(1);
    expect(accessCards('isaiah').filter((c) => titles(c.card).includes('Grant'))).toHaveLength(0);
    expect(cardText(accessCards('nestor')[0]!.card)).toContain('Isaiah Langer (officer, Northgate, Southbridge)');

    // A forged Grant from Isaiah: not his area's record, and his own request (separation of duties is said first).
    expect(cardText(await h.user('isaiah').execute('access.grant', { id, note: '' }))).toContain('You asked for this yourself');
    expect((await db().select().from(accessRequests))[0]!.status).toBe('pending');
    expect(await audits('access.decide_denied')).toHaveLength(1);

    // The case moves to Northgate (Johanna asks, Isaiah accepts): the pending request moves with it, to Isaiah's area.
    await triage(h.user('johanna'), reference, channelTriage);
    await h.user('johanna').execute('case.submit', { reference, form: 'transfer', toArea: 'northgate', reason: 'Moved to Northgate.', newAddress: '3 New Street, Northgate' });
    const [t] = await db().select().from(transfers);
    expect(t!.status).toBe('pending');
    const accepted = await h.user('isaiah').execute('transfer.accept', { id: t!.id, newOwner: people.megan.aadObjectId, note: '' });
    expect(cardText(accepted)).toContain('Accepted by Isaiah Langer');
    expect((await db().select().from(accessRequests))[0]).toMatchObject({ areaId: 'northgate', status: 'pending' });

    // Now Isaiah supervises the record's area, and the request is still his own.
    const own = await h.user('isaiah').execute('access.grant', { id, note: '' });
    expect(cardText(own)).toContain('You asked for this yourself, so another supervisor must decide it.');
    expect((await db().select().from(accessRequests))[0]!.status).toBe('pending');
    expect(await audits('access.grant')).toHaveLength(0);
    expect(titles(await h.user('isaiah').execute('approval.refresh', { subject: 'access', id }))).toEqual(['Withdraw request']);
    // His list does not offer it to him to decide.
    const list = cardText((await h.user('isaiah').say('approvals')).at(-1)!);
    expect(list).not.toContain(`Access to ${reference}`);
    expect(list).toContain('Your access request to Northgate');
  });

  /*
   * Regression: moveCase (src/db/repositories/approvals.ts) moves a pending
   * request to the case's new area, so only the new area's supervisors may
   * decide it; they must be asked, and the old area's delivered cards must
   * stop offering Grant and Decline.
   */
  it('a pending request follows its case to the new area: the new supervisors are asked, the old cards updated', async () => {
    const { reference } = await northgateCase();
    const sent = await requestAccess('lidia', reference);
    const id = requestIdOf(sent);
    await h.deliverOutbox();
    const isaiahPost = accessCards('isaiah')[0]!;
    await h.user('megan').execute('case.submit', { reference, form: 'transfer', toArea: 'eastfield', reason: 'Moved to Eastfield.', newAddress: '5 East Lane, Eastfield' });
    const [t] = await db().select().from(transfers);
    expect(cardText(await h.user('nestor').execute('transfer.accept', { id: t!.id, newOwner: people.johanna.aadObjectId, note: '' }))).toContain('Accepted by Nestor Wilke');
    expect((await db().select().from(accessRequests))[0]).toMatchObject({ id, areaId: 'eastfield', status: 'pending' });
    // Isaiah may no longer decide it, whatever his card says.
    expect(cardText(await h.user('isaiah').execute('access.grant', { id, note: '' }))).toContain('You do not have access');
    expect((await db().select().from(accessRequests))[0]!.status).toBe('pending');
    await h.deliverOutbox();
    // Eastfield's supervisors decide it now, so they are asked.
    for (const who of ['nestor', 'grady'] as const) expect(accessCards(who).filter((c) => titles(c.card).includes('Grant')), who).toHaveLength(1);
    // And Isaiah's card no longer offers him a decision.
    const put = h.connector.sent.find((s) => s.method === 'PUT' && s.conversationId === isaiahPost.sent.conversationId && s.activityId === isaiahPost.sent.id);
    expect(put, 'Isaiah’s card updated in place').toBeDefined();
    expect(titles(put!.activity.attachments![0]!.content)).not.toContain('Grant');
  });

  it('refuses employment and education vetting at once: recorded, audited, nobody asked', async () => {
    const { reference, referralId } = await northgateCase();
    const outboxBefore = (await db().select().from(outbox)).length;
    for (const purpose of ['employmentVetting', 'educationVetting']) {
      const refused = await requestAccess('lidia', reference, { ...risk, purpose, justification: 'Pre-employment check for a teaching post.' });
      const text = cardText(refused);
      expect(text, purpose).toContain('This request cannot be made');
      expect(text).toContain('not a criminal record');
      expect(text).toContain('never shared with employers, universities, colleges');
      expect(text).toContain('Nothing was sent to anyone.');
      expect(titles(refused).filter((t) => /Withdraw|Grant|Open record/.test(t))).toEqual([]);
    }
    const rows = await db().select().from(accessRequests);
    expect(rows.map((r) => ({ status: r.status, purpose: r.purpose, referralId: r.referralId, requester: r.requesterAadObjectId, expiresAt: r.expiresAt })).sort((a, b) => a.purpose.localeCompare(b.purpose))).toEqual([
      { status: 'refused', purpose: 'educationVetting', referralId, requester: people.lidia.aadObjectId, expiresAt: null },
      { status: 'refused', purpose: 'employmentVetting', referralId, requester: people.lidia.aadObjectId, expiresAt: null },
    ]);
    const refusals = await audits('access.refused');
    expect(refusals.map((a) => a.purpose).sort()).toEqual(['educationVetting', 'employmentVetting']);
    expect(await audits('access.request')).toHaveLength(0);
    expect(await db().select().from(outbox)).toHaveLength(outboxBefore);
    await h.deliverOutbox();
    expect(accessCards('isaiah')).toHaveLength(0);
    // A refused request cannot be granted by a forged press either.
    const id = rows[0]!.id;
    expect(cardText(await h.user('isaiah').execute('access.grant', { id, note: '' }))).toContain('This request was refused when it was made.');
    expect((await db().select().from(accessRequests).where(eq(accessRequests.id, id)))[0]!.status).toBe('refused');
    expect(cardText(await h.user('lidia').execute('access.view', { id }))).not.toContain('(read-only)');
  });

  it('finds a record by last name and date of birth without revealing it; audits searches by id only', async () => {
    const { reference, referralId } = await northgateCase();
    const lidia = h.user('lidia');
    const [find] = await lidia.say('access');

    // A last name without a date of birth.
    const noDob = await press(lidia, find!, 'Find', { reference: '', lastName: person.lastName!, dateOfBirth: '' });
    expect(fieldErrors(noDob).dateOfBirth).toBe('Give the date of birth with the last name.');
    // Nothing at all.
    const nothing = await press(lidia, find!, 'Find', { reference: '', lastName: '', dateOfBirth: '' });
    expect(cardText(nothing)).toContain('Give a reference, or a last name and date of birth.');

    // A match (the name in another case and with spaces): the form, not the record; not even the reference.
    const match = await press(lidia, find!, 'Find', { reference: '', lastName: ` ${person.lastName!.toUpperCase()} `, dateOfBirth: person.dateOfBirth! });
    expect(cardText(match)).toContain('A record matches.');
    expect(cardText(match)).toContain('Why you need to see it');
    expect(JSON.stringify(match)).not.toContain(reference);
    expect(JSON.stringify(match)).not.toContain(person.firstName!);
    expect(action(match, 'Send request').data).toMatchObject({ record: referralId });

    const none = await press(lidia, find!, 'Find', { reference: '', lastName: 'Nobody-Matches', dateOfBirth: '2000-01-01' });
    expect(cardText(none)).toContain('No record matches. The search has been recorded.');
    expect(cardText(none)).not.toContain('Why you need to see it');
    const wrongDob = await press(lidia, find!, 'Find', { reference: '', lastName: person.lastName!, dateOfBirth: '2011-05-05' });
    expect(cardText(wrongDob)).toContain('No record matches.');

    const searches = await audits('record.search');
    expect(searches.map((a) => ({ actor: a.actorAadObjectId, type: a.entityType, id: a.entityId }))).toEqual([{ actor: people.lidia.aadObjectId, type: 'referral', id: referralId }]);
    const misses = await audits('record.search_none');
    expect(misses).toHaveLength(2);
    expect(misses.every((a) => a.actorAadObjectId === people.lidia.aadObjectId && a.entityId === people.lidia.aadObjectId)).toBe(true);
    // The audit never holds what was searched for.
    const everything = JSON.stringify(await db().select().from(auditLog)).toLowerCase();
    for (const typed of [person.lastName!, 'nobody-matches', person.dateOfBirth!, '2000-01-01', '2011-05-05']) expect(everything, typed).not.toContain(typed.toLowerCase());
    // Nor do the service's logs.
    expect(h.logs.text.toLowerCase()).not.toContain('nobody-matches');

    // Sending from the name search works like any request; the card still hides the reference until a grant.
    const sent = await press(lidia, match, 'Send request', risk);
    expect(cardText(sent)).toContain('Request sent');
    expect(JSON.stringify(sent)).not.toContain(reference);

    // By reference: a reference that does not exist, one that is malformed.
    const unknown = await press(lidia, find!, 'Find', { reference: 'PRV-2027-999999', lastName: '', dateOfBirth: '' });
    expect(cardText(unknown)).toContain('No record matches.');
    expect(await audits('record.lookup_none')).toHaveLength(1);
    const malformed = await press(lidia, find!, 'Find', { reference: 'not-a-ref', lastName: '', dateOfBirth: '' });
    expect(fieldErrors(malformed).reference).toBe('References look like PRV-2026-000042.');

    // A Northgate officer finding a Northgate record is told it is theirs to open.
    const [meganFind] = await h.user('megan').say('access');
    const own = await press(h.user('megan'), meganFind!, 'Find', { reference, lastName: '', dateOfBirth: '' });
    expect(cardText(own)).toContain('This record is in your area');
    expect(cardText(own)).toContain(`You can open ${reference} yourself`);
    const byName = await press(h.user('megan'), meganFind!, 'Find', { reference: '', lastName: person.lastName!, dateOfBirth: person.dateOfBirth! });
    expect(cardText(byName)).toContain('This record is in your area');
    // …and cannot send a request for it with a forged press.
    const forged = await h.user('megan').execute('access.submit', { record: referralId, ...risk });
    expect(cardText(forged)).toContain('This record is in your area');
    expect((await db().select().from(accessRequests)).filter((r) => r.requesterAadObjectId === people.megan.aadObjectId)).toHaveLength(0);
  });

  it('lets only trained officers, supervisors and partners ask', async () => {
    const { reference, referralId } = await northgateCase();
    for (const who of ['alex', 'patti', 'stranger'] as const) {
      const [card] = await h.user(who).say('access');
      expect(cardText(card!), who).toContain('You do not have access');
      expect(cardText(await h.user(who).execute('access.find', { reference, lastName: '', dateOfBirth: '' })), who).toContain('You do not have access');
      expect(cardText(await h.user(who).execute('access.submit', { record: referralId, ...risk })), who).toContain('You do not have access');
    }
    const [lynne] = await h.user('lynne').say('access');
    expect(cardText(lynne!)).toContain('Your Prevent training has expired');
    expect(cardText(await h.user('lynne').execute('access.submit', { record: referralId, ...risk }))).toContain('Your Prevent training has expired');
    expect(await db().select().from(accessRequests)).toHaveLength(0);
    expect(await audits('record.lookup')).toHaveLength(0);
    expect((await audits('access.start_denied')).length).toBe(4);
    // Officers and supervisors of another area, and partners, may.
    for (const who of ['adele', 'nestor', 'johanna', 'lidia'] as const) {
      const [card] = await h.user(who).say('access');
      expect(cardText(card!), who).toContain('Ask to see a record');
    }
  });

  it('`approvals` lists for a supervisor what waits in their areas (not their own), and for a requester their own requests', async () => {
    const { reference: northRef } = await northgateCase();
    // An Eastfield case, owned by Johanna: she asks to move it to Southbridge (Isaiah's area).
    const { reference: eastRef } = await eastfieldReferral();
    await triage(h.user('johanna'), eastRef, channelTriage);
    await h.user('johanna').execute('case.submit', { reference: eastRef, form: 'transfer', toArea: 'southbridge', reason: 'Moved to Southbridge.', newAddress: '4 Bridge Road, Southbridge' });
    // Megan asks to move the Northgate case out to Eastfield: not Isaiah's to decide.
    await h.user('megan').execute('case.submit', { reference: northRef, form: 'transfer', toArea: 'eastfield', reason: 'Moved to Eastfield.', newAddress: '5 East Lane, Eastfield' });
    expect((await db().select().from(transfers)).map((t) => `${t.fromAreaId}->${t.toAreaId}:${t.status}`).sort()).toEqual(['eastfield->southbridge:pending', 'northgate->eastfield:pending']);
    // Lidia asks to see both records; Isaiah asks to see the Eastfield one.
    await requestAccess('lidia', northRef);
    await requestAccess('lidia', eastRef);
    await requestAccess('isaiah', eastRef);
    await h.deliverOutbox();

    const [isaiahList] = (await h.user('isaiah').say('approvals')).filter((c) => cardText(c).startsWith('Approvals'));
    const text = cardText(isaiahList!);
    expect(text).toContain('2 waiting for your decision');
    expect(text).toContain(`Access to ${northRef} (Northgate)`);
    expect(text).toContain(`Transfer ${eastRef}: Eastfield → Southbridge`);
    expect(text).toContain('Your access request to Eastfield');
    expect(text).not.toContain(`Access to ${eastRef}`);
    expect(text).not.toContain(`Transfer ${northRef}`);
    const opens = cardActions(isaiahList!).filter((a) => a.title === 'Open');
    expect(opens.map((a) => a.data?.subject)).toEqual(['transfer', 'access', 'access']);
    // Opening the access item (waiting for him: listed before his own) gives the decider's card.
    const northAccess = opens[1]!;
    const opened = await h.user('isaiah').execute('approval.open', northAccess.data!);
    expect(cardText(opened)).toContain(`Access request: ${northRef}`);
    expect(titles(opened)).toEqual(['Grant', 'Decline']);

    const [lidiaList] = (await h.user('lidia').say('approvals')).filter((c) => cardText(c).startsWith('Approvals'));
    const mine = cardText(lidiaList!);
    expect(mine).toContain('0 waiting for your decision');
    expect(mine).toContain('Your access request to Northgate');
    expect(mine).toContain('Your access request to Eastfield');
    expect(mine).not.toContain('Access to ');
    expect(mine).not.toContain('Transfer ');
    expect(cardActions(lidiaList!).filter((a) => a.title === 'Open')).toHaveLength(2);

    // Nestor (Eastfield) sees Lidia's and Isaiah's requests for the Eastfield record and the transfer in.
    const nestorText = cardText((await h.user('nestor').say('approvals')).filter((c) => cardText(c).startsWith('Approvals'))[0]!);
    expect(nestorText).toContain('3 waiting for your decision');
    expect(nestorText).toContain(`Transfer ${northRef}: Northgate → Eastfield`);

    // Once granted, the requester's list says until when.
    await h.user('isaiah').execute('access.grant', { id: String(northAccess.data!.id), note: '' });
    const after = cardText((await h.user('lidia').say('approvals')).filter((c) => cardText(c).startsWith('Approvals'))[0]!);
    expect(after).toContain('Your access, granted until 8 Mar 2027, 10:00');
    expect(after).toContain('Your access request to Eastfield');
    const isaiahAfter = cardText((await h.user('isaiah').say('approvals')).filter((c) => cardText(c).startsWith('Approvals'))[0]!);
    expect(isaiahAfter).toContain('1 waiting for your decision');
    expect(isaiahAfter).not.toContain(`Access to ${northRef}`);

    // People who may not ask are not shown a list either.
    expect(cardText((await h.user('alex').say('approvals')).at(-1)!)).toContain('You do not have access');
    expect(cardText((await h.user('lynne').say('approvals')).at(-1)!)).toContain('Your Prevent training has expired');
    const rows = await db().select().from(accessRequests).where(and(eq(accessRequests.status, 'pending'), eq(accessRequests.areaId, 'eastfield')));
    expect(rows).toHaveLength(2);
  });
});
