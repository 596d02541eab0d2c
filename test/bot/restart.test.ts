/** Drafts and turn state live in the database: a restart mid-form loses nothing, and any instance can serve any turn. */
import { afterEach, describe, expect, it } from 'vitest';
import { Harness } from '../harness/harness.js';
import { FakeConnector } from '../harness/fake-connector.js';
import { createTestDatabase, testDatabases, type TestDatabase } from '../harness/databases.js';
import { cardInputs, cardText, action } from '../harness/cards.js';
import { draftIdOf, validAnswers } from '../harness/referral.js';

describe.each(testDatabases())('restart on %s', (kind) => {
  let db: TestDatabase;
  const running: Harness[] = [];
  let connector: FakeConnector;
  afterEach(async () => {
    for (const h of running.splice(0)) {
      await h.stop();
      await h.service.database.close().catch(() => {});
    }
    await connector.stop();
    await db.drop();
  });

  it('carries on a draft after the app is torn down and started again', async () => {
    db = await createTestDatabase(kind, { persistent: true });
    connector = await new FakeConnector().start();
    const answers = validAnswers();

    let h = await Harness.start({ database: await db.open(), connector });
    running.push(h);
    const [first] = await h.user('alex').say('refer');
    const draftId = draftIdOf(first!);
    await h.user('alex').execute('wizard.next', { draftId, step: 'danger', ...answers.danger });
    await h.user('alex').execute('wizard.next', { draftId, step: 'aboutYou', ...answers.aboutYou });
    await h.user('alex').execute('wizard.next', { draftId, step: 'aboutPerson', ...answers.aboutPerson });

    // Tear the whole app down, database included, and start a new one on the same data.
    await h.stop();
    await h.service.database.close();
    running.length = 0;
    h = await Harness.start({ database: await db.open(), connector });
    running.push(h);

    const [list] = await h.user('alex').say('drafts');
    expect(cardText(list!)).toContain('About: Jordan Testperson');
    expect(cardText(list!)).toContain('next step: The concern');
    const cont = action(list!, 'Continue');
    const step = await h.user('alex').execute(cont.verb!, cont.data!);
    expect(cardText(step)).toContain('The concern');
    // Earlier answers survived: go back one step and see them.
    const back = await h.user('alex').execute('wizard.back', { draftId, step: 'concern' });
    expect(cardInputs(back).find((i) => i.id === 'postcode')?.value).toBe('NG1 1AA');
  });

  it.runIf(kind === 'postgres')('lets two instances on one database serve alternate turns of one referral', async () => {
    db = await createTestDatabase(kind);
    connector = await new FakeConnector().start();
    const a = await Harness.start({ database: await db.open(), connector });
    const b = await Harness.start({ database: await db.open(), connector });
    running.push(a, b);
    const answers = validAnswers();
    const [first] = await a.user('alex').say('refer');
    const draftId = draftIdOf(first!);
    const steps = ['danger', 'aboutYou', 'aboutPerson', 'concern', 'consent'] as const;
    for (const [i, step] of steps.entries()) {
      const h = i % 2 === 0 ? b : a;
      await h.user('alex').execute('wizard.next', { draftId, step, ...answers[step] });
    }
    const ack = await b.user('alex').execute('wizard.submit', { draftId, declaration: 'true' });
    expect(cardText(ack)).toMatch(/PRV-\d{4}-000001/);
    const review = cardText((await a.user('alex').say('my referrals'))[0]!);
    expect(review).toMatch(/PRV-\d{4}-000001/);
  });
});
