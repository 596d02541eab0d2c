import { describe, expect, it } from 'vitest';
import {
  addCalendarMonths,
  addWorkingDays,
  daysBetween,
  englandAndWalesBankHolidays,
  isIsoDate,
  isWorkingDay,
  workingDaysBetween,
} from '../../src/domain/working-days.js';

/** Next calendar day, without the module under test. */
function nextDay(d: string): string {
  const t = new Date(`${d}T00:00:00Z`);
  t.setUTCDate(t.getUTCDate() + 1);
  return t.toISOString().slice(0, 10);
}

describe('England and Wales bank holidays (GOV.UK lists)', () => {
  it('match the published lists exactly', () => {
    expect(englandAndWalesBankHolidays(2022)).toEqual([
      '2022-01-03', // New Year on Saturday → Monday 3rd
      '2022-04-15',
      '2022-04-18',
      '2022-05-02',
      '2022-06-02', // spring bank holiday moved (Platinum Jubilee)
      '2022-06-03', // Platinum Jubilee
      '2022-08-29',
      '2022-09-19', // State Funeral of Queen Elizabeth II
      '2022-12-26', // Boxing Day (Monday)
      '2022-12-27', // Christmas on Sunday → substitute Tuesday
    ]);
    expect(englandAndWalesBankHolidays(2023)).toEqual([
      '2023-01-02', // New Year on Sunday → Monday 2nd
      '2023-04-07',
      '2023-04-10',
      '2023-05-01',
      '2023-05-08', // Coronation
      '2023-05-29',
      '2023-08-28',
      '2023-12-25',
      '2023-12-26',
    ]);
    expect(englandAndWalesBankHolidays(2024)).toEqual([
      '2024-01-01', '2024-03-29', '2024-04-01', '2024-05-06', '2024-05-27', '2024-08-26', '2024-12-25', '2024-12-26',
    ]);
    expect(englandAndWalesBankHolidays(2025)).toEqual([
      '2025-01-01', '2025-04-18', '2025-04-21', '2025-05-05', '2025-05-26', '2025-08-25', '2025-12-25', '2025-12-26',
    ]);
    expect(englandAndWalesBankHolidays(2026)).toEqual([
      '2026-01-01', '2026-04-03', '2026-04-06', '2026-05-04', '2026-05-25', '2026-08-31', '2026-12-25', '2026-12-28',
    ]);
    expect(englandAndWalesBankHolidays(2027)).toEqual([
      '2027-01-01', '2027-03-26', '2027-03-29', '2027-05-03', '2027-05-31', '2027-08-30', '2027-12-27', '2027-12-28',
    ]);
  });

  it('move the 2020 early May bank holiday to VE Day', () => {
    expect(englandAndWalesBankHolidays(2020)).toEqual([
      '2020-01-01', '2020-04-10', '2020-04-13', '2020-05-08', '2020-05-25', '2020-08-31', '2020-12-25', '2020-12-28',
    ]);
    expect(isWorkingDay('2020-05-04')).toBe(true);
    expect(isWorkingDay('2020-05-08')).toBe(false);
  });

  it('give Christmas and Boxing Day substitutes', () => {
    // Christmas on Saturday: Monday 27 and Tuesday 28.
    expect(englandAndWalesBankHolidays(2021).slice(-2)).toEqual(['2021-12-27', '2021-12-28']);
    expect(englandAndWalesBankHolidays(2027).slice(-2)).toEqual(['2027-12-27', '2027-12-28']);
    // Christmas on Sunday: Boxing Day Monday 26, Christmas substitute Tuesday 27.
    expect(englandAndWalesBankHolidays(2022).slice(-2)).toEqual(['2022-12-26', '2022-12-27']);
    expect(englandAndWalesBankHolidays(2033).slice(-2)).toEqual(['2033-12-26', '2033-12-27']);
    // Christmas on Friday: Boxing Day (Saturday) moves to Monday 28.
    expect(englandAndWalesBankHolidays(2026).slice(-2)).toEqual(['2026-12-25', '2026-12-28']);
    expect(isWorkingDay('2026-12-26')).toBe(false); // Saturday anyway
  });

  it('give New Year substitutes', () => {
    expect(englandAndWalesBankHolidays(2022)[0]).toBe('2022-01-03'); // Saturday
    expect(englandAndWalesBankHolidays(2023)[0]).toBe('2023-01-02'); // Sunday
    expect(englandAndWalesBankHolidays(2028)[0]).toBe('2028-01-03'); // Saturday
    expect(isWorkingDay('2022-01-03')).toBe(false);
    expect(isWorkingDay('2022-01-04')).toBe(true);
  });

  it('compute Easter for other years', () => {
    const goodFriday = (y: number) => englandAndWalesBankHolidays(y)[1];
    const easterMonday = (y: number) => englandAndWalesBankHolidays(y)[2];
    expect(goodFriday(2008)).toBe('2008-03-21'); // Easter 23 March
    expect(easterMonday(2019)).toBe('2019-04-22');
    expect(easterMonday(2028)).toBe('2028-04-17');
    expect(easterMonday(2029)).toBe('2029-04-02');
    expect(easterMonday(2038)).toBe('2038-04-26'); // Easter 25 April, the latest possible
  });

  it('are cached and frozen', () => {
    const a = englandAndWalesBankHolidays(2026);
    expect(englandAndWalesBankHolidays(2026)).toBe(a);
    expect(Object.isFrozen(a)).toBe(true);
  });
});

describe('isWorkingDay', () => {
  it('is Monday to Friday outside bank holidays', () => {
    expect(isWorkingDay('2026-01-09')).toBe(true); // Friday
    expect(isWorkingDay('2026-01-10')).toBe(false); // Saturday
    expect(isWorkingDay('2026-01-11')).toBe(false); // Sunday
    expect(isWorkingDay('2026-01-12')).toBe(true); // Monday
    expect(isWorkingDay('2026-04-03')).toBe(false); // Good Friday
    expect(isWorkingDay('2026-12-28')).toBe(false); // Boxing Day substitute
  });
});

describe('addWorkingDays', () => {
  it('returns the date itself for n = 0, even on a weekend or holiday', () => {
    expect(addWorkingDays('2026-06-10', 0)).toBe('2026-06-10');
    expect(addWorkingDays('2026-01-10', 0)).toBe('2026-01-10');
    expect(addWorkingDays('2026-12-25', 0)).toBe('2026-12-25');
  });

  it('skips weekends', () => {
    expect(addWorkingDays('2026-01-09', 1)).toBe('2026-01-12'); // Fri → Mon
    expect(addWorkingDays('2026-01-10', 1)).toBe('2026-01-12'); // Sat → Mon
    expect(addWorkingDays('2026-01-11', 1)).toBe('2026-01-12'); // Sun → Mon
    expect(addWorkingDays('2026-01-08', 2)).toBe('2026-01-12');
    expect(addWorkingDays('2026-01-05', 5)).toBe('2026-01-12'); // Mon + 5 → next Mon
    expect(addWorkingDays('2026-01-05', 10)).toBe('2026-01-19');
  });

  it('skips Easter', () => {
    expect(addWorkingDays('2026-04-02', 1)).toBe('2026-04-07'); // Thu → Tue (Good Friday, Easter Monday)
    expect(addWorkingDays('2026-03-31', 5)).toBe('2026-04-09');
  });

  it('skips Christmas and New Year', () => {
    // 21, 22, 23, 24 Dec, then Fri 25 and Mon 28 are holidays → Tue 29.
    expect(addWorkingDays('2026-12-18', 5)).toBe('2026-12-29');
    expect(addWorkingDays('2026-12-24', 1)).toBe('2026-12-29');
    expect(addWorkingDays('2026-12-24', 3)).toBe('2026-12-31');
    expect(addWorkingDays('2026-12-24', 4)).toBe('2027-01-04'); // Fri 1 Jan is a holiday
    expect(addWorkingDays('2027-12-24', 1)).toBe('2027-12-29');
    expect(addWorkingDays('2027-12-31', 1)).toBe('2028-01-04'); // New Year (Sat) → Mon 3 Jan 2028
  });

  it('is not moved by the clock changes', () => {
    // BST starts Sunday 29 March 2026 and ends Sunday 25 October 2026.
    expect(addWorkingDays('2026-03-27', 1)).toBe('2026-03-30');
    expect(addWorkingDays('2026-03-26', 3)).toBe('2026-03-31');
    expect(addWorkingDays('2026-10-23', 1)).toBe('2026-10-26');
    expect(addWorkingDays('2026-10-22', 3)).toBe('2026-10-27');
  });

  it('gives the same answers when the process runs in London time', () => {
    const saved = process.env.TZ;
    process.env.TZ = 'Europe/London';
    try {
      expect(addWorkingDays('2026-03-27', 1)).toBe('2026-03-30');
      expect(addWorkingDays('2026-10-23', 1)).toBe('2026-10-26');
      expect(daysBetween('2026-03-28', '2026-03-30')).toBe(2);
      expect(daysBetween('2026-10-24', '2026-10-26')).toBe(2);
      expect(addCalendarMonths('2026-03-29', 7)).toBe('2026-10-29');
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
  });

  it('rejects a negative or fractional count', () => {
    expect(() => addWorkingDays('2026-12-18', -1)).toThrow(RangeError);
    expect(() => addWorkingDays('2026-12-18', 1.5)).toThrow(RangeError);
    expect(() => addWorkingDays('2026-12-18', Number.NaN)).toThrow(RangeError);
  });
});

describe('workingDaysBetween', () => {
  it('counts working days after from, up to and including to', () => {
    expect(workingDaysBetween('2026-12-18', '2026-12-29')).toBe(5);
    expect(workingDaysBetween('2026-12-18', '2026-12-30')).toBe(6);
    expect(workingDaysBetween('2026-01-09', '2026-01-12')).toBe(1); // Fri → Mon
    expect(workingDaysBetween('2026-01-10', '2026-01-11')).toBe(0); // Sat → Sun
    expect(workingDaysBetween('2026-04-02', '2026-04-07')).toBe(1); // over Easter
    expect(workingDaysBetween('2026-03-27', '2026-03-30')).toBe(1); // over the clock change
    expect(workingDaysBetween('2025-12-31', '2026-12-31')).toBe(253); // 261 weekdays − 8 holidays
  });

  it('is 0 when to is on or before from', () => {
    expect(workingDaysBetween('2026-06-10', '2026-06-10')).toBe(0);
    expect(workingDaysBetween('2026-12-29', '2026-12-18')).toBe(0);
  });

  it('undoes addWorkingDays', () => {
    for (let d = '2026-01-01'; d <= '2027-12-31'; d = nextDay(d)) {
      for (const n of [0, 1, 2, 5, 10, 20]) {
        expect(workingDaysBetween(d, addWorkingDays(d, n))).toBe(n);
      }
    }
  });
});

describe('addCalendarMonths', () => {
  it('keeps the day of the month', () => {
    expect(addCalendarMonths('2026-05-10', 0)).toBe('2026-05-10');
    expect(addCalendarMonths('2026-05-10', 6)).toBe('2026-11-10');
    expect(addCalendarMonths('2026-11-15', 2)).toBe('2027-01-15');
    expect(addCalendarMonths('2026-01-15', -1)).toBe('2025-12-15');
    expect(addCalendarMonths('2026-01-15', 24)).toBe('2028-01-15');
  });

  it('clamps to the last day of a shorter month, leap years included', () => {
    expect(addCalendarMonths('2026-08-31', 6)).toBe('2027-02-28');
    expect(addCalendarMonths('2027-08-31', 6)).toBe('2028-02-29');
    expect(addCalendarMonths('2027-12-31', 2)).toBe('2028-02-29');
    expect(addCalendarMonths('2026-01-31', 1)).toBe('2026-02-28');
    expect(addCalendarMonths('2026-01-31', 3)).toBe('2026-04-30');
    expect(addCalendarMonths('2026-03-31', -1)).toBe('2026-02-28');
    expect(addCalendarMonths('2028-02-29', 12)).toBe('2029-02-28');
    expect(addCalendarMonths('2028-02-29', 48)).toBe('2032-02-29');
  });
});

describe('daysBetween', () => {
  it('counts calendar days, negative backwards', () => {
    expect(daysBetween('2026-01-01', '2027-01-01')).toBe(365);
    expect(daysBetween('2028-01-01', '2029-01-01')).toBe(366);
    expect(daysBetween('2026-03-01', '2026-02-28')).toBe(-1);
    expect(daysBetween('2026-06-10', '2026-06-10')).toBe(0);
  });
});

describe('isIsoDate', () => {
  it('accepts only real dates written YYYY-MM-DD', () => {
    expect(isIsoDate('2026-02-28')).toBe(true);
    expect(isIsoDate('2028-02-29')).toBe(true);
    expect(isIsoDate('2000-02-29')).toBe(true);
    expect(isIsoDate('2026-02-29')).toBe(false);
    expect(isIsoDate('1900-02-29')).toBe(false);
    expect(isIsoDate('2026-04-31')).toBe(false);
    expect(isIsoDate('2026-13-01')).toBe(false);
    expect(isIsoDate('2026-00-10')).toBe(false);
    expect(isIsoDate('2026-01-00')).toBe(false);
    expect(isIsoDate('2026-1-5')).toBe(false);
    expect(isIsoDate('2026/01/05')).toBe(false);
    expect(isIsoDate('2026-01-05T00:00:00Z')).toBe(false);
    expect(isIsoDate(' 2026-01-05')).toBe(false);
    expect(isIsoDate('')).toBe(false);
  });
});

describe('malformed input', () => {
  it('throws a RangeError instead of rolling over', () => {
    expect(() => isWorkingDay('2026-02-30')).toThrow(RangeError);
    expect(() => addWorkingDays('18/12/2026', 1)).toThrow(RangeError);
    expect(() => workingDaysBetween('soon', '2026-01-01')).toThrow(RangeError);
    expect(() => workingDaysBetween('2026-01-01', '2026-01-32')).toThrow(RangeError);
    expect(() => addCalendarMonths('2026-1-31', 1)).toThrow(RangeError);
    expect(() => addCalendarMonths('2026-01-31', 0.5)).toThrow(RangeError);
    expect(() => daysBetween('2026-01-01', '2026-01-01 ')).toThrow(RangeError);
    expect(() => englandAndWalesBankHolidays(2026.5)).toThrow(RangeError);
  });
});
