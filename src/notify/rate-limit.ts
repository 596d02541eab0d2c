/**
 * Sliding-window rate limits, as Teams states them (DESIGN §4): per
 * conversation 7 in 1 s, 8 in 2 s, 60 in 30 s, 1800 in an hour; about 30 a
 * second per app per tenant. In memory, per instance: with several instances
 * each takes its share (`share`), and a 429 from Teams (with Retry-After) is
 * the backstop.
 */

export interface Window {
  readonly limit: number;
  readonly ms: number;
}

export const TEAMS_PER_CONVERSATION: readonly Window[] = [
  { limit: 7, ms: 1000 },
  { limit: 8, ms: 2000 },
  { limit: 60, ms: 30_000 },
  { limit: 1800, ms: 3_600_000 },
];

export const TEAMS_PER_APP: readonly Window[] = [{ limit: 30, ms: 1000 }];

/** Sends made under one key (a conversation, or the app), newest last. */
class History {
  readonly times: number[] = [];
}

export class SlidingWindowLimiter {
  private readonly histories = new Map<string, History>();
  private readonly longest: number;

  /**
   * `marginMs`: a slot is freed this long after its window would free it. A
   * send is stamped when it leaves; Teams counts it when it arrives, a
   * little later and by a varying amount, so without a margin a send made
   * the instant a slot frees can land inside Teams' window and get a 429
   * (bench:delivery: about 2 a second, and each 429 costs a whole slot).
   */
  constructor(
    private readonly windows: readonly Window[],
    private readonly marginMs = 50,
  ) {
    this.longest = Math.max(...windows.map((w) => w.ms)) + marginMs;
  }

  /** Milliseconds until one more send under `key` fits every window (0: now). */
  delay(key: string, now: number): number {
    const h = this.histories.get(key);
    if (!h) return 0;
    let wait = 0;
    for (const w of this.windows) {
      const n = h.times.length;
      if (n < w.limit) continue;
      // The send `limit` places back must leave the window before another fits.
      const blocking = h.times[n - w.limit]!;
      wait = Math.max(wait, blocking + w.ms + this.marginMs - now);
    }
    return Math.max(0, wait);
  }

  /** Records a send under `key` at `now`. */
  take(key: string, now: number): void {
    let h = this.histories.get(key);
    if (!h) {
      h = new History();
      this.histories.set(key, h);
    }
    h.times.push(now);
    // Keep only what the longest window can still see.
    let drop = 0;
    while (drop < h.times.length && h.times[drop]! <= now - this.longest) drop++;
    if (drop > 0) h.times.splice(0, drop);
  }
}

/** Scales a set of windows down for `share` of the app's traffic (several instances). */
export function shareOf(windows: readonly Window[], share: number): Window[] {
  return windows.map((w) => ({ limit: Math.max(1, Math.floor(w.limit * share)), ms: w.ms }));
}
