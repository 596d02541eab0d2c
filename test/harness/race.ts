/** Races for the concurrency tests: requests held at their write transaction until all have arrived. */
import { expect } from 'vitest';
import type { Database, DatabaseHandle } from '../../src/db/client.js';

/**
 * Wraps `db.transaction` so that, while a race is armed, the first `n`
 * transactions wait for each other before they begin. Returns `race(n, fn)`,
 * which arms the gate, runs `fn`, and reports whether the gate was met.
 */
export function gateTransactions(handle: DatabaseHandle, timeoutMs = 20_000): <T>(n: number, fn: () => Promise<T>) => Promise<T> {
  const db = handle.db as Database & { transaction: Database['transaction'] };
  const original = db.transaction.bind(db);
  let gate: { n: number; waiting: Array<() => void>; met: boolean } | undefined;
  db.transaction = (async (...args: Parameters<Database['transaction']>) => {
    const g = gate;
    if (g && g.waiting.length < g.n) {
      await new Promise<void>((resolve) => {
        g.waiting.push(resolve);
        if (g.waiting.length === g.n) {
          g.met = true;
          gate = undefined;
          for (const w of g.waiting) w();
        }
      });
    }
    return original(...args);
  }) as Database['transaction'];
  return async (n, fn) => {
    const g = { n, waiting: [] as Array<() => void>, met: false };
    gate = g;
    // Never hang the suite: if the requests do not both reach a transaction, let them through and fail below.
    const timer = setTimeout(() => {
      if (gate === g) gate = undefined;
      for (const w of g.waiting) w();
    }, timeoutMs);
    try {
      const result = await fn();
      expect(g.met, `all ${n} requests reached their write transaction together`).toBe(true);
      return result;
    } finally {
      clearTimeout(timer);
      if (gate === g) gate = undefined;
    }
  };
}
