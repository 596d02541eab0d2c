/** Field encryption at rest: the envelope, its integrity, its binding to a place, and which fields are sealed. */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { FieldCipher, FieldDecryptionError, fieldCipher, installFieldCipher, isEncrypted, keyIdOf } from '../../src/db/field-crypto.js';
import { openAnswers, openEntryData, openStoredRow, sealAnswers, sealEntryData, sealStepAnswers, sealText } from '../../src/db/narrative-fields.js';
import { preventPathway } from '../../src/forms/prevent.js';

const keyA = randomBytes(32);
const keyB = randomBytes(32);
const PLACE = 'triage_assessments.rationale';
const SECRET = 'Mentioned a knife to Ms Okonkwo-Pryce on Tuesday — ünïcödé ✓';

/** The error a function throws (fails the test if it returns). */
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected an error');
}

describe('FieldCipher', () => {
  const a = new FieldCipher(new Map([['kA', keyA]]), 'kA');

  it('seals and opens a value: an envelope naming its key, a fresh IV each time', () => {
    const sealed = a.encrypt(SECRET, PLACE);
    expect(sealed).toMatch(/^enc:v1:kA:[A-Za-z0-9_-]{16}:[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain('knife');
    expect(isEncrypted(sealed)).toBe(true);
    expect(keyIdOf(sealed)).toBe('kA');
    expect(a.decrypt(sealed, PLACE)).toBe(SECRET);
    expect(a.encrypt(SECRET, PLACE)).not.toBe(sealed);
    expect(a.decrypt(a.encrypt('', PLACE), PLACE)).toBe('');
  });

  it('refuses a value altered in any part', () => {
    const sealed = a.encrypt(SECRET, PLACE);
    const [pre, v, id, iv, body] = sealed.split(':') as [string, string, string, string, string];
    const flip = (s: string, at: number) => s.slice(0, at) + (s[at] === 'A' ? 'B' : 'A') + s.slice(at + 1);
    for (const altered of [
      [pre, v, id, iv, flip(body, 3)].join(':'), // ciphertext
      [pre, v, id, iv, flip(body, body.length - 2)].join(':'), // tag
      [pre, v, id, flip(iv, 0), body].join(':'), // IV
      [pre, v, id, iv, body.slice(0, 10)].join(':'), // truncated
    ]) {
      const err = thrown(() => a.decrypt(altered, PLACE));
      expect(err).toBeInstanceOf(FieldDecryptionError);
      expect(err.message).not.toContain('knife');
    }
    expect(thrown(() => a.decrypt('enc:v1:kA:only-three', PLACE)).message).toMatch(/malformed encrypted value in triage_assessments.rationale/);
  });

  it('refuses a value copied to another place (the associated data binds it)', () => {
    const sealed = a.encrypt(SECRET, PLACE);
    const err = thrown(() => a.decrypt(sealed, 'transfers.reason'));
    expect(err).toBeInstanceOf(FieldDecryptionError);
    expect(err.message).toMatch(/in transfers.reason \(key "kA"\) failed its integrity check/);
  });

  it('names an unknown key id, never the value', () => {
    const b = new FieldCipher(new Map([['kB', keyB]]), 'kB');
    const sealed = a.encrypt(SECRET, PLACE);
    const err = thrown(() => b.decrypt(sealed, PLACE)) as FieldDecryptionError;
    expect(err).toBeInstanceOf(FieldDecryptionError);
    expect(err.keyId).toBe('kA');
    expect(err.message).toContain('field-encryption key "kA" is not configured');
    expect(err.message).not.toContain(SECRET);
    expect(err.message).not.toContain(sealed);
  });

  it('passes plain text written before encryption through unchanged', () => {
    expect(a.decrypt('Written in 2025, before encryption.', PLACE)).toBe('Written in 2025, before encryption.');
    expect(isEncrypted('Written in 2025')).toBe(false);
    expect(keyIdOf('Written in 2025')).toBeUndefined();
  });

  it('reads values of every key in its ring, and seals under the current one only', () => {
    const ab = new FieldCipher(new Map([['kA', keyA], ['kB', keyB]]), 'kB');
    const old = a.encrypt(SECRET, PLACE);
    expect(ab.decrypt(old, PLACE)).toBe(SECRET);
    expect(ab.needsRotation(old)).toBe(true);
    const fresh = ab.encrypt(SECRET, PLACE);
    expect(keyIdOf(fresh)).toBe('kB');
    expect(ab.needsRotation(fresh)).toBe(false);
    expect(ab.needsRotation('plain')).toBe(false);
  });

  it('checks its keyring', () => {
    expect(thrown(() => new FieldCipher(new Map([['k', randomBytes(16)]]), 'k')).message).toBe('field-encryption key "k" must be 32 bytes (it is 16)');
    expect(thrown(() => new FieldCipher(new Map([['k', keyA]]), 'other')).message).toBe('the current field-encryption key "other" is not in the keyring');
    expect(thrown(() => new FieldCipher(new Map([['a:b', keyA]]), 'a:b')).message).toMatch(/key id "a:b" must be/);
  });
});

describe('sealing what the forms call narrative', () => {
  it('has no cipher until one is installed, and then uses it', () => {
    expect(() => fieldCipher()).toThrow(/No field cipher is installed/);
    installFieldCipher(new FieldCipher(new Map([['kA', keyA]]), 'kA'));
    expect(fieldCipher().currentKeyId).toBe('kA');
  });

  it('seals the textarea fields of a referral and leaves names, dates and choices readable', () => {
    const answers = {
      aboutPerson: { firstName: 'Jordan', lastName: 'Testperson', dateOfBirth: '2011-05-04', address: '1 Example Street', gender: 'male', postcode: 'NG1 1AA' },
      concern: { whatSeenOrHeard: 'Shared videos', concernType: 'incel', behaviours: ['withdrawal'] },
    };
    const sealed = sealAnswers('referrals.answers', 'prevent', answers);
    // Which fields are sealed follows the form: every textarea, nothing else.
    const textareas = preventPathway.steps.flatMap((s) => s.fields.filter((f) => f.kind === 'textarea').map((f) => `${s.id}.${f.id}`));
    expect(textareas).toEqual(expect.arrayContaining(['aboutPerson.address', 'concern.whatSeenOrHeard']));
    expect(isEncrypted(sealed.aboutPerson!.address)).toBe(true);
    expect(isEncrypted(sealed.concern!.whatSeenOrHeard)).toBe(true);
    expect(sealed.aboutPerson).toMatchObject({ firstName: 'Jordan', lastName: 'Testperson', dateOfBirth: '2011-05-04', gender: 'male', postcode: 'NG1 1AA' });
    expect(sealed.concern).toMatchObject({ concernType: 'incel', behaviours: ['withdrawal'] });
    expect(openAnswers('referrals.answers', sealed)).toEqual(answers);
    // Bound to the column and the field: a draft's sealed answer does not open as a referral's.
    const draftStep = sealStepAnswers('drafts.answers', 'prevent', 'concern', { whatSeenOrHeard: 'Shared videos' });
    expect(() => openAnswers('referrals.answers', { concern: draftStep })).toThrow(FieldDecryptionError);
    expect(() => openAnswers('referrals.answers', { concern: { whenAndWhere: sealed.concern!.whatSeenOrHeard } })).toThrow(FieldDecryptionError);
  });

  it('seals a one-line answer that looks like an envelope, so it reads back as typed', () => {
    const typed = 'enc:v1:kA:not:really';
    const sealed = sealStepAnswers('drafts.answers', 'prevent', 'aboutYou', { organisation: typed, jobTitle: 'Teacher' });
    expect(sealed.organisation).not.toBe(typed);
    expect(sealed.jobTitle).toBe('Teacher');
    expect(openAnswers('drafts.answers', { aboutYou: sealed }).aboutYou).toEqual({ organisation: typed, jobTitle: 'Teacher' });
  });

  it('seals the narrative fields of a chronology entry by the form its kind records', () => {
    const closed = sealEntryData('closed', { reason: 'riskReduced', note: 'Family moved; engaged well.' });
    expect(closed.reason).toBe('riskReduced'); // a choice on the close form
    expect(isEncrypted(closed.note)).toBe(true);
    const transfer = sealEntryData('transfer', { toArea: 'eastfield', reason: 'Moved to her aunt', newAddress: '3 Elm Row' });
    expect(transfer.toArea).toBe('eastfield');
    expect(isEncrypted(transfer.reason)).toBe(true);
    expect(isEncrypted(transfer.newAddress)).toBe(true);
    const correction = sealEntryData('note', { text: 'Spoke to the school', correctionReason: 'Spelling' });
    expect(isEncrypted(correction.correctionReason)).toBe(true);
    expect(openEntryData(correction)).toEqual({ text: 'Spoke to the school', correctionReason: 'Spelling' });
    expect(sealEntryData('opened', { outcome: 'channel' })).toEqual({ outcome: 'channel' });
    expect(() => sealEntryData('somethingNew', { note: 'x' })).toThrow(/unknown chronology entry kind "somethingNew"/);
  });
});

describe('opening whole rows', () => {
  it('opens every sealed column of a row as drizzle reads it', () => {
    const row = { id: 'x', reason: sealText('transfers.reason', 'Moved away'), newAddress: sealText('transfers.new_address', '3 Elm Row'), decisionNote: null, toAreaId: 'eastfield' };
    expect(openStoredRow('transfers', row)).toEqual({ id: 'x', reason: 'Moved away', newAddress: '3 Elm Row', decisionNote: null, toAreaId: 'eastfield' });
    const entry = { id: 'e', kind: 'note', data: sealEntryData('note', { text: 'Spoke to the school' }) };
    expect(openStoredRow('case_entries', entry).data).toEqual({ text: 'Spoke to the school' });
    const referral = { id: 'r', answers: sealAnswers('referrals.answers', 'prevent', { concern: { whatSeenOrHeard: 'Shared videos' } }) };
    expect(openStoredRow('referrals', referral).answers).toEqual({ concern: { whatSeenOrHeard: 'Shared videos' } });
  });
});
