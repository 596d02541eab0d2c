/** Times are stored in UTC and shown in Europe/London. Pure: `now` is always passed in. */

const TZ = 'Europe/London';

// en-CA writes dates as YYYY-MM-DD: one format() call, no formatToParts on every turn.
const isoDate = new Intl.DateTimeFormat('en-CA', { timeZone: TZ, year: 'numeric', month: '2-digit', day: '2-digit' });
const shown = new Intl.DateTimeFormat('en-GB', { timeZone: TZ, day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', hour12: false });
const shownDate = new Intl.DateTimeFormat('en-GB', { timeZone: TZ, day: 'numeric', month: 'short', year: 'numeric' });

/** The calendar date in London for an instant, as YYYY-MM-DD. */
export function londonDate(instant: Date): string {
  return isoDate.format(instant);
}

/** "28 Nov 2026, 14:05" in London time. */
export function formatLondonDateTime(instant: Date): string {
  return shown.format(instant);
}

/** A calendar date (YYYY-MM-DD, a due date, not an instant) as "2 Dec 2026". */
export function formatCalendarDate(date: string): string {
  return shownDate.format(new Date(`${date}T12:00:00Z`));
}

/** "28 Nov 2026" in London time. */
export function formatLondonDate(instant: Date): string {
  return shownDate.format(instant);
}

const offsetFormat = new Intl.DateTimeFormat('en-GB', { timeZone: TZ, timeZoneName: 'longOffset' });

/** London's offset from UTC at an instant, in minutes (0 in winter, 60 in summer). */
function londonOffsetMinutes(instant: Date): number {
  const name = offsetFormat.formatToParts(instant).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
  const m = /GMT([+-])(\d{2}):(\d{2})/.exec(name);
  return m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : 0;
}

/** The instant of a London wall-clock time on a London date (`date` YYYY-MM-DD, `hour` 0–23). */
export function londonInstant(date: string, hour: number): Date {
  const guess = new Date(`${date}T${String(hour).padStart(2, '0')}:00:00Z`);
  // Try the offset at the guess, then correct once: right on both sides of a clock change.
  const first = new Date(guess.getTime() - londonOffsetMinutes(guess) * 60_000);
  return new Date(guess.getTime() - londonOffsetMinutes(first) * 60_000);
}

/** The next London `hour`:00 strictly after `now` (the morning digest). */
export function nextLondonHour(now: Date, hour: number): Date {
  const today = londonInstant(londonDate(now), hour);
  if (today.getTime() > now.getTime()) return today;
  const tomorrow = new Date(now.getTime() + 24 * 3600_000);
  return londonInstant(londonDate(tomorrow), hour);
}
