/**
 * Annual statistics without individual details (DESIGN §9): the financial
 * year, age bands, the categories of each table, and the suppression of
 * small counts. Pure: counts come in as data, today as a London date.
 *
 * Suppression. A count from 1 to 4 is published as `<5` (primary
 * suppression); zero stays zero. Every table counts the same referrals, so
 * each is an equation: the year's total = the sum of its rows. A single `<5`
 * in a table could then be worked out by subtraction, so more counts are
 * withheld (secondary suppression, published as `[c]`) until no withheld
 * count can be worked out from what is shown. Rather than a rule per shape
 * of table, the check is an audit: from the shown counts, the equations and
 * what each marker says (`<5` is 1–4; `[c]` is 5 or more, since only counts
 * of 5 or more are withheld that way), the possible range of every withheld
 * count is narrowed until nothing changes; a withheld count whose range is a
 * single number is disclosed, and the smallest non-zero count shown beside
 * it is withheld too. The audit also covers a count that is never shown but
 * follows from two that are: Channel referrals not adopted = referred to the
 * panel − adopted.
 */
import { DomainError } from './errors.js';
import { ageOn, findStep, type Answers, type CaseFormId, type PathwayDefinition, type StepAnswers } from './forms.js';

// ---------------------------------------------------------------------------
// The financial year

/** The financial year (1 April – 31 March) of a London date, by its starting calendar year: 2026-03-31 → 2025. */
export function financialYearOf(date: string): number {
  const year = Number(date.slice(0, 4));
  return date.slice(5) >= '04-01' ? year : year - 1;
}

/** The first and last London dates of a financial year. */
export function financialYearSpan(year: number): { readonly first: string; readonly last: string } {
  return { first: `${year}-04-01`, last: `${year + 1}-03-31` };
}

/** The earliest financial year the service reports on. */
export const FIRST_REPORT_YEAR = 2000;

/**
 * The year asked for (`stats 2025`), or the current one. A year that is not
 * four digits, before the first, or not yet begun is refused with the range
 * that would work.
 */
export function reportYear(text: string | undefined, today: string): number {
  const current = financialYearOf(today);
  if (text === undefined || text === '') return current;
  const year = /^\d{4}$/.test(text) ? Number(text) : NaN;
  if (!(year >= FIRST_REPORT_YEAR && year <= current)) {
    throw new DomainError('invalid_year', `no statistics for year ${text.slice(0, 12)}`, { first: String(FIRST_REPORT_YEAR), last: String(current) });
  }
  return year;
}

// ---------------------------------------------------------------------------
// The de-identified record

/** Age bands of the Home Office's Prevent statistics. */
export const ageBands = ['under15', '15to17', '18to20', '21to30', '31to40', '41plus', 'unknown'] as const;
export type AgeBand = (typeof ageBands)[number];

export function ageBandOf(age: number | undefined): AgeBand {
  if (age === undefined || !Number.isFinite(age) || age < 0) return 'unknown';
  if (age < 15) return 'under15';
  if (age < 18) return '15to17';
  if (age < 21) return '18to20';
  if (age <= 30) return '21to30';
  if (age <= 40) return '31to40';
  return '41plus';
}

/** The person's age on the day of the referral: from the date of birth when given, else the approximate age. */
function ageAtReferral(pathway: PathwayDefinition, answers: Answers, today: string): number | undefined {
  const step = answers[pathway.ageFields.step] ?? {};
  const dob = step[pathway.ageFields.dateOfBirth];
  if (typeof dob === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(dob) && dob <= today) return ageOn(dob, today);
  const approx = step[pathway.ageFields.approximateAge];
  return typeof approx === 'number' ? approx : undefined;
}

/** A category missing from the answers (a required field, so only in data older than the form). */
export const UNKNOWN = 'unknown';

/** What the statistics keep of a referral: categories only, nothing that names or dates the person. */
export interface StatisticsRecord {
  readonly pathway: string;
  readonly financialYear: number;
  readonly sector: string;
  readonly concernType: string;
  readonly ageBand: AgeBand;
  readonly gender: string;
  readonly areaId: string;
}

/** The statistics record of a referral submitted on `today` (a London date). */
export function statisticsRecordOf(pathway: PathwayDefinition, answers: Answers, areaId: string, today: string): StatisticsRecord {
  const f = pathway.statisticsFields;
  const answer = (ref: { step: string; field: string }) => {
    const v = answers[ref.step]?.[ref.field];
    return typeof v === 'string' && v !== '' ? v : UNKNOWN;
  };
  return {
    pathway: pathway.id,
    financialYear: financialYearOf(today),
    sector: answer(f.sector),
    concernType: answer(f.concernType),
    ageBand: ageBandOf(ageAtReferral(pathway, answers, today)),
    gender: answer(f.gender),
    areaId,
  };
}

/** Does this panel decision count the referral as adopted as a Channel case? The latest decision stands. */
export function isAdoptedDecision(pathway: PathwayDefinition, values: StepAnswers): boolean {
  const a = pathway.statisticsFields.adopted;
  return values[a.field] === a.value;
}

// ---------------------------------------------------------------------------
// Tables and their categories

export const dimensions = ['sector', 'concernType', 'ageBand', 'gender', 'area', 'outcome'] as const;
export type Dimension = (typeof dimensions)[number];

/** The outcome row of referrals still waiting for their gateway assessment. */
export const AWAITING = 'awaiting';
/** The row, under the Channel outcome, of referrals the panel adopted. */
export const ADOPTED = 'adopted';

/** What the database counted for one financial year. */
export interface YearCounts {
  readonly total: number;
  /** Referrals by category in each table; the outcome of a referral not yet assessed is `AWAITING`. */
  readonly by: Readonly<Record<Dimension, ReadonlyMap<string, number>>>;
  /** Referrals whose outcome is the Channel panel and whose panel adopted them. */
  readonly adopted: number;
}

/** A row's category and where its label comes from. */
interface Category {
  readonly key: string;
  /** Catalogue key of the label; areas are named by the directory instead. */
  readonly labelKey?: string;
}

function choiceCategories(field: { choiceSet?: string; choices?: readonly string[] } | undefined): Category[] {
  return (field?.choices ?? []).map((key) => ({ key, labelKey: `choice.${field!.choiceSet}.${key}` }));
}

function stepField(pathway: PathwayDefinition, ref: { step: string; field: string }) {
  return findStep(pathway, ref.step)?.fields.find((f) => f.id === ref.field);
}

function formField(pathway: PathwayDefinition, ref: { form: CaseFormId; field: string }) {
  return pathway.caseForms[ref.form].fields.find((f) => f.id === ref.field);
}

/**
 * The rows of each table, in the form's order (so the labels are the form's
 * own): the pathway's choice lists, the age bands, the directory's areas, and
 * the gateway outcomes with "awaiting assessment".
 */
export function categoriesOf(pathway: PathwayDefinition, areaIds: readonly string[]): Record<Dimension, readonly Category[]> {
  const f = pathway.statisticsFields;
  const outcome = formField(pathway, f.outcome);
  return {
    sector: choiceCategories(stepField(pathway, f.sector)),
    concernType: choiceCategories(stepField(pathway, f.concernType)),
    ageBand: ageBands.map((key) => ({ key, labelKey: `stats.ageBand.${key}` })),
    gender: choiceCategories(stepField(pathway, f.gender)),
    area: areaIds.map((key) => ({ key })),
    outcome: [...choiceCategories(outcome), { key: AWAITING, labelKey: 'stats.outcome.awaiting' }],
  };
}

/** The label of the adopted row: the panel form's own choice label. */
function adoptedLabelKey(pathway: PathwayDefinition): string {
  const a = pathway.statisticsFields.adopted;
  return `choice.${formField(pathway, a)?.choiceSet}.${a.value}`;
}

// ---------------------------------------------------------------------------
// Suppression

export const LESS_THAN_5 = '<5';
export const WITHHELD = '[c]';
/** A published count: the number, or the marker standing for one withheld. */
export type Figure = number | typeof LESS_THAN_5 | typeof WITHHELD;

/** How a count is published: shown; `<5` (1–4); `[c]` (withheld to protect another); never published (derived only). */
export type CellStatus = 'shown' | 'lessThan5' | 'withheld' | 'hidden';

/** The cells of `parent` add up to it: a table and its total, or a row and its parts. */
export interface Equation {
  readonly parent: number;
  readonly children: readonly number[];
}

type Range = [lo: number, hi: number];

function initialRange(value: number, status: CellStatus): Range {
  if (status === 'shown') return [value, value];
  if (status === 'lessThan5') return [1, 4];
  if (status === 'withheld') return [5, Infinity];
  return [0, Infinity];
}

/**
 * The range each cell could take, given what is published: each equation
 * narrows its parent to the sum of its children's ranges and each child to
 * the parent's range less the others', until nothing changes.
 */
export function possibleRanges(values: readonly number[], status: readonly CellStatus[], equations: readonly Equation[]): Range[] {
  const r = values.map((v, i) => initialRange(v, status[i]!));
  for (let round = 0, changed = true; changed && round < 1000; round++) {
    changed = false;
    const narrow = (i: number, lo: number, hi: number) => {
      const [a, b] = r[i]!;
      const next: Range = [Math.max(a, lo), Math.min(b, hi)];
      if (next[0] !== a || next[1] !== b) {
        r[i] = next;
        changed = true;
      }
    };
    for (const e of equations) {
      const los = e.children.map((c) => r[c]![0]);
      const his = e.children.map((c) => r[c]![1]);
      const sumLo = los.reduce((x, y) => x + y, 0);
      const infinite = his.filter((h) => h === Infinity).length;
      const finiteHi = his.reduce((x, y) => (y === Infinity ? x : x + y), 0);
      narrow(e.parent, sumLo, infinite > 0 ? Infinity : finiteHi);
      const [plo, phi] = r[e.parent]!;
      e.children.forEach((c, k) => {
        const othersHi = infinite - (his[k] === Infinity ? 1 : 0) > 0 ? Infinity : finiteHi - (his[k] === Infinity ? 0 : his[k]!);
        narrow(c, plo - othersHi, phi - (sumLo - los[k]!));
      });
    }
  }
  return r;
}

/** Withheld cells whose value follows exactly from what is published, and hidden small counts that do. */
export function disclosedCells(values: readonly number[], status: readonly CellStatus[], equations: readonly Equation[]): number[] {
  const r = possibleRanges(values, status, equations);
  return values
    .map((v, i) => i)
    .filter((i) => {
      const [lo, hi] = r[i]!;
      if (lo !== hi) return false;
      const s = status[i];
      return s === 'lessThan5' || s === 'withheld' || (s === 'hidden' && values[i]! >= 1 && values[i]! <= 4);
    });
}

/**
 * Decides how each count is published. `hidden` cells are never published
 * but are protected when small. Primary: 1–4 → `<5`. Secondary: while a
 * withheld count can be worked out, withhold the smallest non-zero count
 * shown in an equation with it (its own table first, then further along
 * through withheld cells). Each round withholds one more count, so it ends.
 */
export function suppression(values: readonly number[], equations: readonly Equation[], hidden: ReadonlySet<number> = new Set()): CellStatus[] {
  const status: CellStatus[] = values.map((v, i) => (hidden.has(i) ? 'hidden' : v >= 1 && v <= 4 ? 'lessThan5' : 'shown'));
  for (;;) {
    const disclosed = disclosedCells(values, status, equations);
    if (disclosed.length === 0) return status;
    const next = nextToWithhold(values, status, equations, disclosed[0]!);
    if (next === undefined) throw new Error('statistics: a withheld count cannot be protected');
    status[next] = values[next]! <= 4 ? 'lessThan5' : 'withheld';
  }
}

/**
 * Which count to withhold next so that `cell` can no longer be worked out:
 * the smallest non-zero count shown beside it in its own table; for a total,
 * in a table that adds up to it exactly; then the total of its table; and
 * failing those, the same search from the withheld counts around it.
 */
function nextToWithhold(values: readonly number[], status: readonly CellStatus[], equations: readonly Equation[], cell: number): number | undefined {
  const ranges = possibleRanges(values, status, equations);
  const candidate = (cells: Iterable<number>) => {
    const open = [...cells].filter((o) => status[o] === 'shown' && values[o]! > 0);
    return open.length > 0 ? open.reduce((a, b) => (values[b]! < values[a]! ? b : a)) : undefined;
  };
  const exact = (e: Equation) => e.children.every((c) => ranges[c]![0] === ranges[c]![1]);
  const seen = new Set<number>([cell]);
  let frontier = [cell];
  while (frontier.length > 0) {
    const asChild = equations.filter((e) => frontier.some((c) => e.children.includes(c)));
    const asParent = equations.filter((e) => frontier.includes(e.parent));
    const found =
      candidate(asChild.flatMap((e) => e.children)) ??
      candidate(asParent.filter(exact).flatMap((e) => e.children)) ??
      candidate(asParent.flatMap((e) => e.children)) ??
      candidate(asChild.map((e) => e.parent));
    if (found !== undefined) return found;
    frontier = [...asChild.flatMap((e) => [e.parent, ...e.children]), ...asParent.flatMap((e) => e.children)].filter((o) => !seen.has(o));
    frontier.forEach((o) => seen.add(o));
  }
  return undefined;
}

// ---------------------------------------------------------------------------
// The report

export interface StatisticsRow {
  readonly key: string;
  /** Catalogue key of the label; absent for areas, which the directory names. */
  readonly labelKey?: string;
  /** The row counts part of another row of the table (adopted, within the Channel panel). */
  readonly partOf?: string;
  readonly figure: Figure;
  /** The same row a year earlier. */
  readonly previous: Figure;
  /** This year less the year before, only when both are shown. */
  readonly change?: number;
}

export interface StatisticsTable {
  readonly dimension: Dimension;
  readonly rows: readonly StatisticsRow[];
}

/** A year's statistics as published: every figure already suppressed; no count withheld leaves here. */
export interface StatisticsReport {
  readonly pathway: string;
  readonly year: number;
  /** The London date the figures were taken. */
  readonly asOf: string;
  /** The year has ended (otherwise it is the year so far). */
  readonly complete: boolean;
  readonly total: StatisticsRow;
  readonly tables: readonly StatisticsTable[];
}

interface Layout {
  readonly rows: Array<{ dimension: Dimension | 'total'; category: Category; partOf?: string }>;
  readonly equations: Equation[];
  readonly hidden: Set<number>;
  /** Where a year's counts go: one value per cell. */
  readonly valuesOf: (c: YearCounts) => number[];
}

/**
 * The cells of one year: the total (cell 0), every row of every table (keys
 * the form does not list, found in the data, are rows too, so each table
 * still adds up), the adopted row and the hidden "not adopted" count.
 */
function layout(pathway: PathwayDefinition, areaIds: readonly string[], years: readonly YearCounts[]): Layout {
  const categories = categoriesOf(pathway, areaIds);
  const rows: Layout['rows'] = [{ dimension: 'total', category: { key: 'total', labelKey: 'stats.total' } }];
  const equations: Equation[] = [];
  const hidden = new Set<number>();
  const channel = pathway.statisticsFields.adopted.outcome;
  let channelCell: number | undefined;
  for (const d of dimensions) {
    const listed = categories[d];
    const extra = [...new Set(years.flatMap((y) => [...y.by[d].keys()]))].filter((k) => !listed.some((c) => c.key === k)).sort();
    const children: number[] = [];
    for (const category of [...listed, ...extra.map(unlistedCategory)]) {
      children.push(rows.length);
      if (d === 'outcome' && category.key === channel) channelCell = rows.length;
      rows.push({ dimension: d, category });
    }
    equations.push({ parent: 0, children });
  }
  if (channelCell !== undefined) {
    const adopted = rows.length;
    rows.push({ dimension: 'outcome', category: { key: ADOPTED, labelKey: adoptedLabelKey(pathway) }, partOf: channel });
    hidden.add(rows.length);
    rows.push({ dimension: 'outcome', category: { key: 'notAdopted' } });
    equations.push({ parent: channelCell, children: [adopted, adopted + 1] });
  }
  const valuesOf = (c: YearCounts) =>
    rows.map((row, i) => {
      if (row.dimension === 'total') return c.total;
      if (row.category.key === ADOPTED && row.partOf) return c.adopted;
      if (hidden.has(i)) return (c.by.outcome.get(channel) ?? 0) - c.adopted;
      return c.by[row.dimension].get(row.category.key) ?? 0;
    });
  return { rows, equations, hidden, valuesOf };
}

/**
 * A category found in the data but not in the form (an area since removed
 * from the directory, an answer missing from an old record): still a row,
 * so its table adds up; labelled by its key, or "not recorded".
 */
function unlistedCategory(key: string): Category {
  return key === UNKNOWN ? { key, labelKey: 'stats.notRecorded' } : { key };
}

const figureOf = (value: number, status: CellStatus): Figure => (status === 'shown' ? value : status === 'lessThan5' ? LESS_THAN_5 : WITHHELD);

/**
 * The published statistics of `year`, beside the year before. Each year is
 * suppressed on its own; a change is given only between two shown counts,
 * so it reveals nothing that is withheld.
 */
export function buildReport(input: {
  readonly pathway: PathwayDefinition;
  readonly year: number;
  readonly today: string;
  readonly areaIds: readonly string[];
  readonly counts: YearCounts;
  readonly previous: YearCounts;
}): StatisticsReport {
  const l = layout(input.pathway, input.areaIds, [input.counts, input.previous]);
  const published = [input.counts, input.previous].map((c) => {
    const values = l.valuesOf(c);
    const status = suppression(values, l.equations, l.hidden);
    return values.map((v, i) => figureOf(v, status[i]!));
  });
  const [now, before] = published as [Figure[], Figure[]];
  const rowAt = (i: number): StatisticsRow => {
    const { category, partOf } = l.rows[i]!;
    const figure = now[i]!;
    const previous = before[i]!;
    return {
      key: category.key,
      ...(category.labelKey ? { labelKey: category.labelKey } : {}),
      ...(partOf ? { partOf } : {}),
      figure,
      previous,
      ...(typeof figure === 'number' && typeof previous === 'number' ? { change: figure - previous } : {}),
    };
  };
  const tables = dimensions.map((dimension) => ({
    dimension,
    rows: l.rows.map((r, i) => ({ r, i })).filter(({ r, i }) => r.dimension === dimension && !l.hidden.has(i)).map(({ i }) => rowAt(i)),
  }));
  return {
    pathway: input.pathway.id,
    year: input.year,
    asOf: input.today,
    complete: input.today > financialYearSpan(input.year).last,
    total: rowAt(0),
    tables,
  };
}
