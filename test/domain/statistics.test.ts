/**
 * The statistics rules, without a database: financial years, age bands, the
 * de-identified record, and suppression — checked by hand on the shapes that
 * need secondary suppression, and against an exhaustive search on thousands
 * of random tables (no withheld count may be worked out from what is shown).
 */
import { describe, expect, it } from 'vitest';
import {
  ageBandOf,
  buildReport,
  disclosedCells,
  financialYearOf,
  reportYear,
  statisticsRecordOf,
  suppression,
  type CellStatus,
  type Dimension,
  type Equation,
  type YearCounts,
} from '../../src/domain/statistics.js';
import { DomainError } from '../../src/domain/errors.js';
import { preventPathway } from '../../src/forms/prevent.js';

describe('financial years', () => {
  it('run from 1 April to 31 March and are named by the year they start', () => {
    expect(financialYearOf('2026-03-31')).toBe(2025);
    expect(financialYearOf('2026-04-01')).toBe(2026);
    expect(financialYearOf('2025-12-31')).toBe(2025);
    expect(financialYearOf('2026-01-01')).toBe(2025);
  });

  it('a report is for the current year, or a year from 2000 that has begun', () => {
    expect(reportYear(undefined, '2026-11-28')).toBe(2026);
    expect(reportYear('2025', '2026-11-28')).toBe(2025);
    expect(reportYear('2000', '2026-11-28')).toBe(2000);
    expect(reportYear(undefined, '2027-02-10')).toBe(2026);
    for (const bad of ['1999', '2027', 'abc', '25', '20255', '2025/26']) {
      const err = (() => {
        try {
          reportYear(bad, '2026-11-28');
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(err, bad).toBeInstanceOf(DomainError);
      expect((err as DomainError).code).toBe('invalid_year');
      expect((err as DomainError).params).toEqual({ first: '2000', last: '2026' });
    }
    // In February 2027 the year 2027 has not begun yet.
    expect(() => reportYear('2027', '2027-02-10')).toThrow(DomainError);
  });
});

describe('age bands', () => {
  it('follow the Home Office bands at each boundary', () => {
    const cases: Array<[number | undefined, string]> = [
      [0, 'under15'],
      [14, 'under15'],
      [15, '15to17'],
      [17, '15to17'],
      [18, '18to20'],
      [20, '18to20'],
      [21, '21to30'],
      [30, '21to30'],
      [31, '31to40'],
      [40, '31to40'],
      [41, '41plus'],
      [99, '41plus'],
      [undefined, 'unknown'],
    ];
    for (const [age, band] of cases) expect(ageBandOf(age), String(age)).toBe(band);
  });
});

describe('the de-identified record', () => {
  const answers = (aboutPerson: Record<string, string | number>) => ({
    aboutYou: { sector: 'health' },
    aboutPerson: { gender: 'female', area: 'southbridge', ...aboutPerson },
    concern: { concernType: 'incel' },
  });

  it('keeps categories only, with the age at referral from the date of birth', () => {
    // 15 the day after the referral: still 14 on the day.
    expect(statisticsRecordOf(preventPathway, answers({ dateOfBirth: '2011-11-29' }), 'southbridge', '2026-11-28')).toEqual({
      pathway: 'prevent',
      financialYear: 2026,
      sector: 'health',
      concernType: 'incel',
      ageBand: 'under15',
      gender: 'female',
      areaId: 'southbridge',
    });
    expect(statisticsRecordOf(preventPathway, answers({ dateOfBirth: '2011-11-28' }), 'southbridge', '2026-11-28').ageBand).toBe('15to17');
  });

  it('uses the approximate age when there is no date of birth, and says unknown when neither is given', () => {
    expect(statisticsRecordOf(preventPathway, answers({ approximateAge: 34 }), 'x', '2026-03-31')).toMatchObject({ ageBand: '31to40', financialYear: 2025 });
    expect(statisticsRecordOf(preventPathway, answers({}), 'x', '2026-04-01')).toMatchObject({ ageBand: 'unknown', financialYear: 2026 });
    expect(statisticsRecordOf(preventPathway, {}, 'x', '2026-04-01')).toMatchObject({ sector: 'unknown', concernType: 'unknown', gender: 'unknown' });
  });
});

// ---------------------------------------------------------------------------
// Suppression

/** One or more one-way tables of the same population: cell 0 is the total, then each table's cells. */
function tables(total: number, ...rows: number[][]): { values: number[]; equations: Equation[] } {
  const values = [total];
  const equations: Equation[] = [];
  for (const r of rows) {
    equations.push({ parent: 0, children: r.map((_, i) => values.length + i) });
    values.push(...r);
  }
  return { values, equations };
}

const marks = (s: readonly CellStatus[]) => s.map((x) => ({ shown: '.', lessThan5: '<', withheld: 'c', hidden: 'h' })[x]).join('');

describe('suppression', () => {
  it('shows everything when no count is from 1 to 4, and keeps zero as zero', () => {
    const t = tables(30, [10, 0, 20], [30, 0]);
    expect(marks(suppression(t.values, t.equations))).toBe('......');
  });

  it('shows two small counts as <5 when they cannot be told apart from the total', () => {
    // 2 + 3 = 5: each is anything from 1 to 4.
    const t = tables(20, [2, 3, 15]);
    expect(marks(suppression(t.values, t.equations))).toBe('.<<.');
  });

  it('withholds a second count when a single <5 could be worked out from the total', () => {
    const t = tables(13, [10, 3, 0]);
    expect(marks(suppression(t.values, t.equations))).toBe('.c<.');
  });

  it('withholds the next smallest count, not a larger one', () => {
    const t = tables(40, [3, 30, 7]);
    expect(marks(suppression(t.values, t.equations))).toBe('.<.c');
  });

  it('withholds another when two small counts could only be ones (or only fours)', () => {
    const ones = tables(12, [1, 1, 10]);
    expect(marks(suppression(ones.values, ones.equations))).toBe('.<<c');
    const fours = tables(18, [4, 4, 10]);
    expect(marks(suppression(fours.values, fours.equations))).toBe('.<<c');
  });

  it('withholds the total when even that is not enough, and then protects it in every other table', () => {
    // 1 + 5 = 6: with 5 withheld, the 1 is still the only count that fits (a withheld count is 5 or more).
    const t = tables(6, [1, 5], [6, 0], [2, 4]);
    const s = suppression(t.values, t.equations);
    expect(marks(s)).toBe('c<cc.<<');
    expect(disclosedCells(t.values, s, t.equations)).toEqual([]);
  });

  it('shows a total from 1 to 4 as <5', () => {
    const t = tables(3, [3, 0], [1, 2]);
    expect(marks(suppression(t.values, t.equations))).toBe('<<.<<');
  });

  it('protects a count that is never shown but follows from two that are (not adopted = panel − adopted)', () => {
    // total 20 = nfa 13 + channel 7; channel 7 = adopted 5 + not adopted 2 (hidden).
    const values = [20, 13, 7, 5, 2];
    const equations: Equation[] = [
      { parent: 0, children: [1, 2] },
      { parent: 2, children: [3, 4] },
    ];
    const s = suppression(values, equations, new Set([4]));
    expect(marks(s)).toBe('...ch');
    expect(disclosedCells(values, s, equations)).toEqual([]);
    // With the panel count shown small, adopted (1–4) is <5 and nothing else is needed beyond the table's own rule.
    const small = suppression([20, 16, 4, 3, 1], equations, new Set([4]));
    expect(marks(small)).toBe('.c<<h');
  });

  it('leaves no withheld count that an exhaustive search can pin down, over two thousand random tables', () => {
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % n;
    };
    const small = () => [0, 1, 2, 3, 4, 5, 6, 7, 9, 12, 20][random(11)]!;
    let withheld = 0;
    let hiddenProtected = 0;
    for (let trial = 0; trial < 2000; trial++) {
      // Two or three tables of the same referrals, two to four rows each; the first row of the
      // first table has a part shown (adopted) and a part never shown (not adopted).
      const first = Array.from({ length: 2 + random(3) }, small);
      const total = first.reduce((a, b) => a + b, 0);
      const others = Array.from({ length: 1 + random(2) }, () => split(total, 2 + random(3), random));
      const t = tables(total, first, ...others);
      const part = random(first[0]! + 1);
      const sub = { cell: 1, part: t.values.length, rest: t.values.length + 1 };
      const values = [...t.values, part, first[0]! - part];
      const equations = [...t.equations, { parent: sub.cell, children: [sub.part, sub.rest] }];
      const s = suppression(values, equations, new Set([sub.rest]));
      values.forEach((v, i) => {
        if (i === sub.rest) return;
        if (v >= 1 && v <= 4) expect(s[i]).toBe('lessThan5');
        if (v === 0) expect(s[i]).toBe('shown');
      });
      withheld += s.filter((x) => x === 'withheld').length;
      if (values[sub.rest]! >= 1 && values[sub.rest]! <= 4) hiddenProtected += 1;
      expect(pinnedBySearch(values, s, t.equations, sub), JSON.stringify({ values, s })).toEqual([]);
    }
    expect(withheld).toBeGreaterThan(100);
    expect(hiddenProtected).toBeGreaterThan(100);
  });
});

/** `total` split at random into `parts` counts. */
function split(total: number, parts: number, random: (n: number) => number): number[] {
  const out = Array.from({ length: parts }, () => 0);
  for (let i = 0; i < total; i++) out[random(parts)]! += 1;
  return out;
}

/**
 * An exhaustive search, independent of the audit in the code: every total
 * the published tables allow, and for each table every value of each
 * withheld count that the others can make up; then every split of `sub.cell`
 * into its shown part and its never-shown rest. A withheld count with one
 * possible value is pinned, and so is a never-shown rest from 1 to 4.
 */
function pinnedBySearch(
  values: readonly number[],
  status: readonly CellStatus[],
  equations: readonly Equation[],
  sub: { cell: number; part: number; rest: number },
): number[] {
  // Far above any count here (at most 80): a lower cap could only make the search find more pins, never fewer.
  const max = 100;
  const range = (i: number): [number, number] =>
    status[i] === 'shown' ? [values[i]!, values[i]!] : status[i] === 'lessThan5' ? [1, 4] : status[i] === 'withheld' ? [5, max] : [0, max];
  // The cell that is split can only be as small as its shown part allows.
  const allowed = (i: number, x: number) => i !== sub.cell || x >= range(sub.part)[0];
  const possible = new Map<number, Set<number>>();
  const add = (c: number, x: number) => (possible.get(c) ?? possible.set(c, new Set()).get(c)!).add(x);
  const [tlo, thi] = range(0);
  for (let total = tlo; total <= thi; total++) {
    const perTable = equations.map((e) => {
      const found = new Map<number, Set<number>>();
      let any = false;
      const walk = (k: number, left: number, chosen: number[]) => {
        if (k === e.children.length) {
          if (left !== 0) return;
          any = true;
          e.children.forEach((c, j) => (found.get(c) ?? found.set(c, new Set()).get(c)!).add(chosen[j]!));
          return;
        }
        const [lo, hi] = range(e.children[k]!);
        for (let x = lo; x <= Math.min(hi, left); x++) if (allowed(e.children[k]!, x)) walk(k + 1, left - x, [...chosen, x]);
      };
      walk(0, total, []);
      return any ? found : undefined;
    });
    if (perTable.some((f) => f === undefined)) continue;
    add(0, total);
    for (const f of perTable) for (const [c, xs] of f!) for (const x of xs) add(c, x);
  }
  for (const x of possible.get(sub.cell) ?? []) {
    const [lo, hi] = range(sub.part);
    for (let a = lo; a <= Math.min(hi, x); a++) {
      add(sub.part, a);
      add(sub.rest, x - a);
    }
  }
  return values
    .map((_, i) => i)
    .filter((i) => {
      if (status[i] === 'shown') return false;
      const n = possible.get(i)?.size ?? 0;
      return status[i] === 'hidden' ? n <= 1 && values[i]! >= 1 && values[i]! <= 4 : n <= 1;
    });
}

// ---------------------------------------------------------------------------
// The report

function counts(total: number, by: Partial<Record<Dimension, Record<string, number>>>, adopted = 0): YearCounts {
  const dims: Dimension[] = ['sector', 'concernType', 'ageBand', 'gender', 'area', 'outcome'];
  return { total, adopted, by: Object.fromEntries(dims.map((d) => [d, new Map(Object.entries(by[d] ?? {}))])) as unknown as YearCounts['by'] };
}

describe('the report', () => {
  const thisYear = counts(
    40,
    {
      sector: { education: 30, health: 3, police: 7 },
      concernType: { islamist: 12, extremeRightWing: 20, incel: 8 },
      ageBand: { under15: 10, '15to17': 20, '41plus': 10 },
      gender: { male: 36, female: 4 },
      area: { northgate: 25, southbridge: 15 },
      outcome: { no_further_action: 18, channel: 14, awaiting: 8 },
    },
    9,
  );
  const lastYear = counts(33, {
    sector: { education: 33 },
    concernType: { islamist: 12, extremeRightWing: 18, incel: 3 },
    ageBand: { under15: 33 },
    gender: { male: 33 },
    area: { northgate: 30, oldtown: 3 },
    outcome: { no_further_action: 33 },
  });
  const report = buildReport({ pathway: preventPathway, year: 2026, today: '2026-11-28', areaIds: ['northgate', 'southbridge', 'eastfield'], counts: thisYear, previous: lastYear });
  const table = (d: Dimension) => Object.fromEntries(report.tables.find((t) => t.dimension === d)!.rows.map((r) => [r.key, [r.figure, r.previous, r.change]]));

  it('lists every category of the form in its order, zero where there were none', () => {
    expect(report.tables.map((t) => t.dimension)).toEqual(['sector', 'concernType', 'ageBand', 'gender', 'area', 'outcome']);
    expect(report.tables[0]!.rows.map((r) => r.key)).toEqual(['education', 'health', 'localAuthority', 'socialCare', 'police', 'communityFaith', 'familyFriend', 'other']);
    expect(report.tables[0]!.rows[0]!.labelKey).toBe('choice.sector.education');
    expect(report.tables[2]!.rows.map((r) => r.key)).toEqual(['under15', '15to17', '18to20', '21to30', '31to40', '41plus', 'unknown']);
    expect(report.tables[5]!.rows.map((r) => r.key)).toEqual(['no_further_action', 'signposted', 'channel', 'police_led', 'ct_policing', 'awaiting', 'adopted']);
    expect(report.tables[5]!.rows.at(-1)).toMatchObject({ partOf: 'channel', labelKey: 'choice.panelDecision.adopted' });
    expect(report.complete).toBe(false);
  });

  it('suppresses each year on its own and gives a change only between shown counts', () => {
    expect(report.total).toMatchObject({ figure: 40, previous: 33, change: 7 });
    // health 3 → <5, so the next smallest (police 7) is withheld; last year all 33 in education.
    expect(table('sector')).toMatchObject({ education: [30, 33, -3], health: ['<5', 0, undefined], police: ['[c]', 0, undefined], other: [0, 0, 0] });
    // incel was 3 last year: <5 then, and Islamist (12, the next smallest) was withheld to protect it.
    expect(table('concernType')).toMatchObject({ islamist: [12, '[c]', undefined], extremeRightWing: [20, 18, 2], incel: [8, '<5', undefined] });
    expect(table('gender')).toMatchObject({ male: ['[c]', 33, undefined], female: ['<5', 0, undefined] });
    expect(table('outcome')).toMatchObject({ no_further_action: [18, 33, -15], channel: [14, 0, 14], awaiting: [8, 0, 8], adopted: [9, 0, 9] });
  });

  it('keeps a category the data has and the form or directory no longer lists, so the table still adds up', () => {
    expect(table('area')).toMatchObject({ northgate: [25, '[c]', undefined], southbridge: [15, 0, 15], eastfield: [0, 0, 0], oldtown: [0, '<5', undefined] });
    expect(report.tables[4]!.rows.find((r) => r.key === 'oldtown')!.labelKey).toBeUndefined();
  });
});
