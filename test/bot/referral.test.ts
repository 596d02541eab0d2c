/** The referral wizard end to end, over HTTP, on each test database. */
import { beforeEach, describe, expect, it } from 'vitest';
import { Harness } from '../harness/harness.js';
import { testDatabases } from '../harness/databases.js';
import { freshHarnessEach } from '../harness/fresh.js';
import { action, cardActions, cardInputs, cardText, fieldErrors } from '../harness/cards.js';
import { draftIdOf, startDraft, submitReferral, validAnswers, walkToReview, wizardSteps } from '../harness/referral.js';

describe.each(testDatabases())('referral wizard on %s', (kind) => {
  const harness = freshHarnessEach(kind);
  let h: Harness;
  beforeEach(() => {
    h = harness();
  });

  it('takes a teacher from refer to a reference, one step per card', async () => {
    const alex = h.user('alex');
    const [first] = await alex.say('refer');
    expect(cardText(first!)).toContain('Is anyone in immediate danger?');
    expect(cardText(first!)).toContain('Step 1 of 6');
    const draftId = draftIdOf(first!);

    const titles: string[] = [];
    let card = first!;
    const answers = validAnswers();
    for (const step of wizardSteps) {
      card = await alex.execute('wizard.next', { draftId, step, fromReview: '', ...answers[step] });
      titles.push(cardText(card).split('\n')[1]!);
    }
    expect(titles).toEqual(['About you', 'About the person', 'The concern', 'Awareness and consent', 'Check and submit']);

    // The review card shows every answer, with an Edit for each step.
    const review = cardText(card);
    for (const text of ['Jordan', 'Testperson', 'Northgate', 'Extreme right-wing', 'Expressing extremist views, Having or sharing extremist material', '4 May 2011']) {
      expect(review).toContain(text);
    }
    expect(cardActions(card).filter((a) => a.title === 'Edit')).toHaveLength(5);

    const ack = await alex.execute('wizard.submit', { draftId, declaration: 'true' });
    const ackText = cardText(ack);
    expect(ackText).toContain('Referral received');
    expect(ackText).toMatch(/Your reference is PRV-\d{4}-000001/);
    expect(ackText).toContain('Prevent team');
  });

  it('prefills the referrer’s name from Teams', async () => {
    const [first] = await h.user('alex').say('refer');
    const draftId = draftIdOf(first!);
    const aboutYou = await h.user('alex').execute('wizard.next', { draftId, step: 'danger', immediateDanger: 'no' });
    expect(cardInputs(aboutYou).find((i) => i.id === 'referrerName')?.value).toBe('Alex Wilber');
  });

  it('shows "call 999 now" when someone is in immediate danger, then lets the referral go on', async () => {
    const alex = h.user('alex');
    const [first] = await alex.say('refer');
    const draftId = draftIdOf(first!);
    const danger = await alex.execute('wizard.next', { draftId, step: 'danger', immediateDanger: 'yes' });
    expect(cardText(danger)).toContain('Call 999 now');
    expect(cardInputs(danger)).toHaveLength(0);
    const cont = action(danger, 'Continue the referral');
    const next = await alex.execute(cont.verb!, cont.data!);
    expect(cardText(next)).toContain('About you');
    // The 999 reminder stays on every later card, up to the review.
    expect(cardText(next)).toContain('call 999 now');
    const { review } = await walkToReview(alex, validAnswers({ danger: { immediateDanger: 'no' } }));
    expect(cardText(review)).not.toContain('call 999 now');
  });

  it('offers unfinished drafts when refer is typed again, or a new one', async () => {
    const alex = h.user('alex');
    const [first] = await alex.say('refer');
    const draftId = draftIdOf(first!);
    const [offer] = await alex.say('refer');
    expect(cardText(offer!)).toContain('You have unfinished referrals');
    expect(action(offer!, 'Continue').data).toMatchObject({ draftId });
    const fresh = await alex.execute('wizard.start', {});
    expect(cardText(fresh)).toContain('Step 1 of 6');
    expect(draftIdOf(fresh)).not.toBe(draftId);
    expect(cardActions((await alex.say('drafts'))[0]!).filter((a) => a.title === 'Continue')).toHaveLength(2);
  });

  it('leaves blank optional questions off the review, and keeps typed line breaks', async () => {
    const answers = validAnswers({ aboutPerson: { address: '1 Example Street\nNorthgate' } });
    const { review } = await walkToReview(h.user('alex'), answers);
    const text = cardText(review);
    expect(text).not.toContain('Online activity of concern'); // optional, left blank
    expect(text).not.toContain('Not answered');
    expect(text).toContain('1 Example Street\n\nNorthgate');
  });

  it('goes Back keeping answers, and edits a step from the review then returns to the review', async () => {
    const alex = h.user('alex');
    const answers = validAnswers();
    const { draftId } = await walkToReview(alex, answers);

    // Back from the concern step shows About the person with its saved answers.
    const back = await alex.execute('wizard.back', { draftId, step: 'concern', ...answers.concern });
    expect(cardText(back)).toContain('About the person');
    expect(cardInputs(back).find((i) => i.id === 'firstName')?.value).toBe('Jordan');

    // Edit from review: change the first name, Next returns to review showing it.
    const edit = await alex.execute('wizard.edit', { draftId, step: 'aboutPerson' });
    expect(action(edit, 'Next').data).toMatchObject({ fromReview: '1' });
    const review = await alex.execute('wizard.next', { draftId, step: 'aboutPerson', fromReview: '1', ...answers.aboutPerson, firstName: 'Jody' });
    expect(cardText(review)).toContain('Check and submit');
    expect(cardText(review)).toContain('Jody');
  });

  it('re-shows a step with messages beside bad answers, keeps what was typed, and saves nothing', async () => {
    const alex = h.user('alex');
    const answers = validAnswers();
    const { draftId } = await walkToReview(alex, answers);
    const bad = await alex.execute('wizard.next', {
      draftId,
      step: 'aboutPerson',
      ...answers.aboutPerson,
      firstName: '',
      postcode: 'not a postcode',
      dateOfBirth: '2099-01-01',
      area: 'atlantis',
      lastName: 'x'.repeat(101),
    });
    const errors = fieldErrors(bad);
    expect(errors.firstName).toBe('This is required.');
    expect(errors.postcode).toMatch(/UK postcode/);
    expect(errors.dateOfBirth).toMatch(/future/);
    expect(errors.area).toMatch(/choose one/);
    expect(errors.lastName).toMatch(/100 characters/);
    expect(cardText(bad)).toContain('Please check the answers marked below.');
    expect(cardInputs(bad).find((i) => i.id === 'address')?.value).toBe(answers.aboutPerson!.address);
    // Nothing saved: the review still shows the earlier answers.
    const review = await alex.execute('wizard.edit', { draftId, step: 'review' });
    expect(cardText(review)).toContain('Jordan');
    expect(cardText(review)).not.toContain('atlantis');
  });

  it('needs a date of birth or an approximate age, and parents’ awareness for a child', async () => {
    const alex = h.user('alex');
    const answers = validAnswers();
    const { draftId } = await walkToReview(alex, answers);
    const noAge = await alex.execute('wizard.next', { draftId, step: 'aboutPerson', ...answers.aboutPerson, dateOfBirth: '' });
    expect(fieldErrors(noAge).dateOfBirth).toMatch(/date of birth or an approximate age/);
    const child = await alex.execute('wizard.next', { draftId, step: 'consent', ...answers.consent, parentsAware: '' });
    expect(fieldErrors(child).parentsAware).toBe('This is required.');
  });

  it('will not submit without the declaration', async () => {
    const alex = h.user('alex');
    const { draftId } = await walkToReview(alex);
    const again = await alex.execute('wizard.submit', { draftId, declaration: 'false' });
    expect(fieldErrors(again).declaration).toMatch(/confirm the declaration/);
    expect(cardText(await alex.say('my referrals').then((c) => c[0]!))).toContain('not made any referrals');
  });

  it('submits once however often Submit is pressed, and together', async () => {
    const alex = h.user('alex');
    const { draftId } = await walkToReview(alex);
    const [a, b, c] = await Promise.all([
      alex.execute('wizard.submit', { draftId, declaration: 'true' }),
      alex.execute('wizard.submit', { draftId, declaration: 'true' }),
      alex.execute('wizard.submit', { draftId, declaration: 'true' }),
    ]);
    const refs = [a, b, c].map((card) => /PRV-\d{4}-\d{6}/.exec(cardText(card!))?.[0]);
    expect(new Set(refs).size).toBe(1);
    expect(refs[0]).toBeTruthy();
    const late = await alex.execute('wizard.submit', { draftId, declaration: 'true' });
    expect(cardText(late)).toContain(refs[0]!);
    // A stale card's Next after submission shows the reference, and changes nothing.
    const stale = await alex.execute('wizard.next', { draftId, step: 'aboutYou', ...validAnswers().aboutYou });
    expect(cardText(stale)).toContain(refs[0]!);
    const mine = cardText((await alex.say('my referrals'))[0]!);
    expect(mine.match(/PRV-/g)).toHaveLength(1);
  });

  it('numbers references from the database, one after another', async () => {
    const first = await submitReferral(h.user('alex'));
    const second = await submitReferral(h.user('stranger'));
    expect(Number(first.reference.slice(-6)) + 1).toBe(Number(second.reference.slice(-6)));
  });

  it('saves for later and lists the draft under drafts', async () => {
    const alex = h.user('alex');
    const draftId = draftIdOf(await startDraft(alex));
    await alex.execute('wizard.next', { draftId, step: 'danger', immediateDanger: 'no' });
    const saved = await alex.execute('wizard.save', { draftId, step: 'aboutYou', jobTitle: 'Teacher' });
    expect(cardText(saved)).toContain('Saved');
    const [list] = await alex.say('drafts');
    expect(cardText(list!)).toContain('next step: About you');
    const resumed = await alex.execute('wizard.resume', { draftId });
    expect(cardInputs(resumed).find((i) => i.id === 'jobTitle')?.value).toBe('Teacher');
  });
});
