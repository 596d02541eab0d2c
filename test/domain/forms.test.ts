import { describe, expect, it } from 'vitest';
import { ageOn, firstIncompleteStep, personAge, validateStep, findStep } from '../../src/domain/forms.js';
import { preventPathway } from '../../src/forms/prevent.js';

const ctx = { today: '2026-11-28', answers: {}, dynamicChoices: { areas: ['northgate', 'southbridge'] } };
const step = (id: string) => findStep(preventPathway, id)!;

describe('validateStep', () => {
  it('accepts good answers and normalises them', () => {
    const r = validateStep(preventPathway, step('aboutPerson'), { firstName: ' Jo ', lastName: 'B', approximateAge: '14', gender: 'female', address: 'x', postcode: 'ng1 1aa', area: 'northgate' }, ctx, 'complete');
    expect(r).toEqual({ ok: true, values: { firstName: 'Jo', lastName: 'B', approximateAge: 14, gender: 'female', address: 'x', postcode: 'NG1 1AA', area: 'northgate' } });
  });

  it('splits multi-select values and rejects unknown choices', () => {
    expect(validateStep(preventPathway, step('concern'), { behaviours: 'withdrawal,other,withdrawal' }, ctx, 'partial')).toEqual({ ok: true, values: { behaviours: ['withdrawal', 'other'] } });
    const bad = validateStep(preventPathway, step('concern'), { behaviours: 'withdrawal,hacking' }, ctx, 'partial');
    expect(bad.ok).toBe(false);
  });

  it('treats anything but a string as unreadable, and ignores unknown keys', () => {
    const r = validateStep(preventPathway, step('aboutYou'), { jobTitle: { $ne: 1 } as unknown, organisation: ['a'], evil: 'x' }, ctx, 'partial');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(Object.keys(r.errors).sort()).toEqual(['jobTitle', 'organisation']);
    const ok = validateStep(preventPathway, step('aboutYou'), { jobTitle: 'T', evil: 'x' }, ctx, 'partial');
    expect(ok).toEqual({ ok: true, values: { jobTitle: 'T' } });
  });

  it('checks dates are real and not in the future', () => {
    const e = (dob: string) => {
      const r = validateStep(preventPathway, step('aboutPerson'), { dateOfBirth: dob }, ctx, 'partial');
      return r.ok ? undefined : r.errors.dateOfBirth?.key;
    };
    expect(e('2011-02-30')).toBe('error.field.date');
    expect(e('2026-11-29')).toBe('error.field.dateFuture');
    expect(e('1850-01-01')).toBe('error.field.date');
    expect(e('2026-11-28')).toBeUndefined();
  });

  it('requires parents’ awareness only for under-18s, from date of birth or approximate age', () => {
    const consent = step('consent');
    const base = { personAware: 'no', personConsented: 'no' };
    const withAge = (aboutPerson: Record<string, string | number>) => validateStep(preventPathway, consent, base, { ...ctx, answers: { aboutPerson } }, 'complete');
    expect(withAge({ dateOfBirth: '2009-11-29' }).ok).toBe(false); // 16, a day short of 17
    expect(withAge({ dateOfBirth: '2008-11-28' }).ok).toBe(true); // 18 today
    expect(withAge({ approximateAge: 15 }).ok).toBe(false);
    expect(withAge({ approximateAge: 30 }).ok).toBe(true);
  });

  it('requires the declaration to be switched on', () => {
    const r = validateStep(preventPathway, step('review'), { declaration: 'false' }, ctx, 'complete');
    expect(r.ok ? undefined : r.errors.declaration?.key).toBe('error.field.declaration');
  });

  it('partial mode lets required fields wait', () => {
    expect(validateStep(preventPathway, step('aboutYou'), {}, ctx, 'partial')).toEqual({ ok: true, values: {} });
    expect(validateStep(preventPathway, step('aboutYou'), {}, ctx, 'complete').ok).toBe(false);
  });
});

describe('ages', () => {
  it('counts whole years, birthdays included', () => {
    expect(ageOn('2010-11-28', '2026-11-28')).toBe(16);
    expect(ageOn('2010-11-29', '2026-11-28')).toBe(15);
    expect(ageOn('2008-02-29', '2026-02-28')).toBe(17);
    expect(personAge(preventPathway, { aboutPerson: { approximateAge: 12 } }, '2026-01-01')).toBe(12);
    expect(personAge(preventPathway, {}, '2026-01-01')).toBeUndefined();
  });
});

describe('firstIncompleteStep', () => {
  it('names the first step with a missing answer', () => {
    expect(firstIncompleteStep(preventPathway, { danger: { immediateDanger: 'no' } }, ctx)).toBe('aboutYou');
  });
});
