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

/** "28 Nov 2026" in London time. */
export function formatLondonDate(instant: Date): string {
  return shownDate.format(instant);
}
