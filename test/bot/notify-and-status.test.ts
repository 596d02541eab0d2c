/** After submission: the area's officers are told (and nobody else), the referrer sees status only, and officers may open it. */
import { beforeEach, describe, expect, it } from 'vitest';
import { Harness, people } from '../harness/harness.js';
import { testDatabases } from '../harness/databases.js';
import { freshHarnessEach } from '../harness/fresh.js';
import { action, cardText } from '../harness/cards.js';
import { submitReferral, validAnswers } from '../harness/referral.js';
import { messagesFor } from '../../src/db/repositories/outbox.js';

describe.each(testDatabases())('after submission on %s', (kind) => {
  const harness = freshHarnessEach(kind);
  let h: Harness;
  beforeEach(() => {
    h = harness();
  });

  it('tells the trained officers of the chosen area, and only them', async () => {
    // Everyone has the app installed (so each has a stored conversation).
    for (const who of ['megan', 'adele', 'isaiah', 'patti', 'lynne'] as const) await h.user(who).install();
    h.connector.clear();

    const { reference } = await submitReferral(h.user('alex'), validAnswers({ aboutPerson: { area: 'northgate' } }));
    await h.deliverOutbox();

    const told = (who: keyof typeof people) => h.connector.cardsIn(h.user(who).conversationId).map(cardText);
    expect(told('megan')).toHaveLength(1);
    expect(told('megan')[0]).toContain(`Referral ${reference}`);
    expect(told('megan')[0]).toContain('New referral for Northgate');
    expect(told('isaiah')).toHaveLength(1); // supervisor of both areas
    expect(told('adele')).toHaveLength(0); // Southbridge only
    expect(told('patti')).toHaveLength(0); // analyst
    expect(told('lynne')).toHaveLength(0); // training lapsed
    // The notice names the reference only: no personal details leave the case record.
    expect(told('megan')[0]).not.toMatch(/Jordan|Testperson/);

    // Delivering again sends nothing twice.
    await h.deliverOutbox();
    expect(told('megan')).toHaveLength(1);
  });

  it('routes a Southbridge referral to Southbridge', async () => {
    for (const who of ['megan', 'adele'] as const) await h.user(who).install();
    h.connector.clear();
    await submitReferral(h.user('alex'), validAnswers({ aboutPerson: { area: 'southbridge' } }));
    await h.deliverOutbox();
    expect(h.connector.cardsIn(h.user('adele').conversationId)).toHaveLength(1);
    expect(h.connector.cardsIn(h.user('megan').conversationId)).toHaveLength(0);
  });

  it('keeps a message for an officer who has not installed the app as unreachable, not lost silently', async () => {
    await submitReferral(h.user('alex'));
    await h.deliverOutbox();
    const rows = await messagesFor(h.service.database.db, people.megan.aadObjectId);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.status).toBe('unreachable');
  });

  it('records a 403 as unreachable and retries a 429 after Retry-After, never marking a failed send as sent', async () => {
    await h.user('megan').install();
    await h.user('isaiah').install();
    const megan = h.user('megan').conversationId;
    // botbuilder's own client retries a 429 a few times first (honouring Retry-After), so keep it short.
    const isaiah = h.user('isaiah').conversationId;
    h.connector.respond = ({ conversationId }) => (conversationId === megan ? { status: 403 } : conversationId === isaiah ? { status: 429, retryAfter: 1 } : undefined);
    await submitReferral(h.user('alex'));
    await h.deliverOutbox();
    const [m] = await messagesFor(h.service.database.db, people.megan.aadObjectId);
    const forIsaiah = await messagesFor(h.service.database.db, people.isaiah.aadObjectId);
    const i = forIsaiah.find((r) => r.kind === 'referral.new');
    expect(m!.status).toBe('unreachable');
    // Isaiah, supervisor of Northgate, is also to be told that Megan cannot be reached.
    expect(forIsaiah.map((r) => r.kind).sort()).toEqual(['referral.new', 'user.unreachable']);
    expect(i!.status).toBe('pending');
    expect(i!.lastError).toMatch(/429|Scripted/);
    expect(i!.nextAttemptAt.getTime()).toBeGreaterThan(i!.createdAt.getTime());
    // When the connector recovers, the retry delivers it once.
    h.connector.respond = () => undefined;
    const latest = Math.max(...(await messagesFor(h.service.database.db, people.isaiah.aadObjectId)).map((r) => r.nextAttemptAt.getTime()));
    await new Promise((r) => setTimeout(r, Math.max(0, latest - Date.now()) + 50));
    await h.deliverOutbox();
    const seen = h.connector.cardsIn(h.user('isaiah').conversationId).map(cardText);
    expect(seen.filter((t) => t.includes('New referral'))).toHaveLength(1);
    expect(seen.filter((t) => t.includes('Megan Bowen cannot be reached'))).toHaveLength(1);
    expect((await messagesFor(h.service.database.db, people.isaiah.aadObjectId)).map((r) => r.status)).toEqual(['sent', 'sent']);
  });

  it('lets an officer of the area open the referral from the notice; the view shows the answers', async () => {
    await h.user('megan').install();
    const { reference } = await submitReferral(h.user('alex'));
    await h.deliverOutbox();
    const notice = h.user('megan').lastCard()!;
    const open = action(notice, 'Open referral');
    const view = await h.user('megan').execute(open.verb!, open.data!);
    const text = cardText(view);
    expect(text).toContain(`Referral ${reference}`);
    expect(text).toContain('Jordan');
    expect(text).toContain('Shared extremist videos');
    expect(text).toContain('Your viewing of this record has been logged.');
  });

  it('refuses the referral to officers of another area, to lapsed officers and to referrers', async () => {
    const { reference } = await submitReferral(h.user('alex'));
    const adele = cardText((await h.user('adele').say(`case ${reference}`))[0]!);
    expect(adele).toContain('You do not have access');
    const lynne = cardText((await h.user('lynne').say(`case ${reference}`))[0]!);
    expect(lynne).toContain('training has expired');
    const alex = cardText((await h.user('alex').say(`case ${reference}`))[0]!);
    expect(alex).toContain('You do not have access');
    expect(alex).not.toContain('Jordan');
    // A card button is not a permission: the same verb from the wrong person is refused too.
    const forged = await h.user('adele').execute('referral.open', { reference });
    expect(cardText(forged)).toContain('You do not have access');
  });

  it('shows the referrer their referrals with status only, never the details', async () => {
    const { reference } = await submitReferral(h.user('alex'));
    const [card] = await h.user('alex').say('My Referrals');
    const text = cardText(card!);
    expect(text).toContain(reference);
    expect(text).toContain('Received');
    expect(text).not.toMatch(/Jordan|extremist|Northgate/);
    // Someone else sees none of Alex's.
    expect(cardText((await h.user('stranger').say('my referrals'))[0]!)).toContain('not made any referrals');
  });

  it('answers help, whoami and unknown commands with cards', async () => {
    const help = cardText((await h.user('alex').say('help'))[0]!);
    expect(help).toContain('What I can do');
    expect(help).toContain('refer');
    const who = cardText((await h.user('megan').say('whoami'))[0]!);
    expect(who).toContain('Megan Bowen');
    expect(who).toContain('Officer');
    expect(who).toContain('Northgate');
    const lapsed = cardText((await h.user('lynne').say('whoami'))[0]!);
    expect(lapsed).toContain('training has lapsed');
    const stranger = cardText((await h.user('stranger').say('WHOAMI'))[0]!);
    expect(stranger).toContain('not in the officers’ directory');
    const unknown = cardText((await h.user('alex').say('what is this'))[0]!);
    expect(unknown).toContain('Sorry, I did not understand');
    expect(unknown).toContain('What I can do');
  });

  it('welcomes a user when the app is installed', async () => {
    await h.user('alex').install();
    const text = cardText(h.user('alex').lastCard()!);
    expect(text).toContain('Welcome to Safeguard Desk');
    expect(text).toContain('call 999');
  });
});
