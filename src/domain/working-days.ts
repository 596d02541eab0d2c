/**
 * Working days and calendar arithmetic for deadlines ("respond within 5 working days").
 * Pure: dates come in as YYYY-MM-DD London calendar days. All arithmetic is on whole
 * UTC days, so a clock change can never move a date.
 */

const DAY_MS = 86_400_000;
const ISO = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Days since 1970-01-01. setUTCFullYear, not Date.UTC: Date.UTC maps years 0–99 to 1900–1999. */
function dayNumber(year: number, month: number, day: number): number {
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  return Math.round(d.getTime() / DAY_MS);
}

function daysInMonth(year: number, month: number): number {
  return dayNumber(month === 12 ? year + 1 : year, month === 12 ? 1 : month + 1, 1) - dayNumber(year, month, 1);
}

function parseParts(s: string): { year: number; month: number; day: number } | undefined {
  const m = typeof s === 'string' ? ISO.exec(s) : null;
  if (!m) return undefined;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  return { year, month, day };
}

/** Every public function takes strings, so a typo must fail loudly, not roll over to another date. */
function parse(s: string): { year: number; month: number; day: number } {
  const p = parseParts(s);
  if (!p) throw new RangeError(`Not a calendar date in YYYY-MM-DD form: ${JSON.stringify(s)}`);
  return p;
}

function toDay(s: string): number {
  const { year, month, day } = parse(s);
  return dayNumber(year, month, day);
}

function fromDay(n: number): string {
  const d = new Date(n * DAY_MS);
  const year = d.getUTCFullYear();
  if (year < 0 || year > 9999) throw new RangeError(`Date out of range (years 0000–9999): day ${n}`);
  return `${String(year).padStart(4, '0')}-${String(d.getUTCMonth() + 1).padStart(2, '0')}-${String(d.getUTCDate()).padStart(2, '0')}`;
}

/** 0 = Sunday … 6 = Saturday. */
function weekday(n: number): number {
  return new Date(n * DAY_MS).getUTCDay();
}

const isWeekend = (n: number): boolean => {
  const w = weekday(n);
  return w === 0 || w === 6;
};

/** Easter Sunday by the anonymous Gregorian (Meeus/Jones/Butcher) algorithm. */
function easterSunday(year: number): number {
  const a = year % 19;
  const b = Math.floor(year / 100);
  const c = year % 100;
  const d = Math.floor(b / 4);
  const e = b % 4;
  const f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4);
  const k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31);
  const day = ((h + l - 7 * m + 114) % 31) + 1;
  return dayNumber(year, month, day);
}

/** First Monday on or after a day. */
function mondayOnOrAfter(n: number): number {
  return n + ((8 - weekday(n)) % 7);
}

/** Last Monday on or before a day. */
function mondayOnOrBefore(n: number): number {
  return n - ((weekday(n) + 6) % 7);
}

/**
 * One-off changes proclaimed by royal proclamation; the regular rules cannot know them.
 * Only years a live referral can plausibly touch are listed (2020 onwards).
 */
const ONE_OFFS: ReadonlyMap<number, { moved?: ReadonlyArray<readonly [string, string]>; extra?: readonly string[] }> = new Map([
  [2020, { moved: [['2020-05-04', '2020-05-08']] }], // early May → VE Day 75th anniversary
  [2022, { moved: [['2022-05-30', '2022-06-02']], extra: ['2022-06-03', '2022-09-19'] }], // Platinum Jubilee; State Funeral
  [2023, { extra: ['2023-05-08'] }], // Coronation
]);

interface YearHolidays {
  list: readonly string[];
  days: ReadonlySet<number>;
}

const cache = new Map<number, YearHolidays>();

function holidaysFor(year: number): YearHolidays {
  const hit = cache.get(year);
  if (hit) return hit;
  if (!Number.isInteger(year) || year < 0 || year > 9999) throw new RangeError(`Not a year: ${year}`);

  const days = new Set<number>();

  // New Year's Day: a weekend one moves to the following Monday.
  const newYear = dayNumber(year, 1, 1);
  days.add(isWeekend(newYear) ? mondayOnOrAfter(newYear) : newYear);

  const easter = easterSunday(year);
  days.add(easter - 2); // Good Friday
  days.add(easter + 1); // Easter Monday
  days.add(mondayOnOrAfter(dayNumber(year, 5, 1))); // early May
  days.add(mondayOnOrBefore(dayNumber(year, 5, 31))); // spring
  days.add(mondayOnOrBefore(dayNumber(year, 8, 31))); // summer

  // Christmas and Boxing Day: each one on a weekend gets the next free weekday after 26 Dec,
  // so Sat/Sun → Mon 27 + Tue 28, Sun/Mon → Tue 27, Fri/Sat → Mon 28.
  const christmas = dayNumber(year, 12, 25);
  let substitutes = 0;
  for (const d of [christmas, christmas + 1]) {
    if (isWeekend(d)) substitutes++;
    else days.add(d);
  }
  for (let d = christmas + 2; substitutes > 0; d++) {
    if (!isWeekend(d) && !days.has(d)) {
      days.add(d);
      substitutes--;
    }
  }

  const oneOff = ONE_OFFS.get(year);
  for (const [from, to] of oneOff?.moved ?? []) {
    days.delete(toDay(from));
    days.add(toDay(to));
  }
  for (const d of oneOff?.extra ?? []) days.add(toDay(d));

  const sorted = [...days].sort((a, b) => a - b);
  const entry: YearHolidays = { list: Object.freeze(sorted.map(fromDay)), days };
  cache.set(year, entry);
  return entry;
}

/** England and Wales bank holidays for a year, sorted, as YYYY-MM-DD (current rules plus known one-offs). */
export function englandAndWalesBankHolidays(year: number): readonly string[] {
  return holidaysFor(year).list;
}

function isWorkingDayNumber(n: number): boolean {
  return !isWeekend(n) && !holidaysFor(new Date(n * DAY_MS).getUTCFullYear()).days.has(n);
}

/** Monday to Friday and not an England and Wales bank holiday. */
export function isWorkingDay(date: string): boolean {
  return isWorkingDayNumber(toDay(date));
}

/** The n-th working day after `date` (the day itself never counts); n = 0 gives `date` back. */
export function addWorkingDays(date: string, n: number): string {
  let d = toDay(date);
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`Working days must be a whole number ≥ 0: ${n}`);
  for (let left = n; left > 0; ) {
    d++;
    if (isWorkingDayNumber(d)) left--;
  }
  return fromDay(d);
}

/** Working days d with from < d ≤ to (e.g. how many working days a deadline is overdue); 0 when to ≤ from. */
export function workingDaysBetween(from: string, to: string): number {
  const end = toDay(to);
  let count = 0;
  for (let d = toDay(from) + 1; d <= end; d++) if (isWorkingDayNumber(d)) count++;
  return count;
}

/** Same day of the month `months` later (or earlier), clamped to the month's last day: 31 Aug + 6 → 28/29 Feb. */
export function addCalendarMonths(date: string, months: number): string {
  const { year, month, day } = parse(date);
  if (!Number.isSafeInteger(months)) throw new RangeError(`Months must be a whole number: ${months}`);
  const index = year * 12 + (month - 1) + months;
  const y = Math.floor(index / 12);
  const m = index - y * 12 + 1;
  if (y < 0 || y > 9999) throw new RangeError(`Date out of range (years 0000–9999): ${date} + ${months} months`);
  return fromDay(dayNumber(y, m, Math.min(day, daysInMonth(y, m))));
}

/** Calendar days from `from` to `to`; negative when `to` is earlier. */
/** The calendar date `days` days after `date` (negative: before). */
export function addCalendarDays(date: string, days: number): string {
  if (!Number.isInteger(days)) throw new RangeError(`days must be a whole number, not ${days}`);
  return fromDay(toDay(date) + days);
}

export function daysBetween(from: string, to: string): number {
  return toDay(to) - toDay(from);
}

/** True for a real calendar date written YYYY-MM-DD (no time, no zone). */
export function isIsoDate(s: string): boolean {
  return parseParts(s) !== undefined;
}
