/**
 * Short-lived, single-use download links: how the statistics CSV reaches a
 * Teams user.
 *
 * Why a link. Teams shows a file a bot sends in only two ways: a
 * FileConsentCard (personal chat only; the app must declare supportsFiles,
 * the user accepts, the bot uploads to the user's OneDrive through the URL
 * Teams returns, then posts a file card), or a file already on SharePoint or
 * OneDrive. An attachment with a `data:` URL is shown for images only. The
 * consent flow needs Graph-side storage and does not exist in the Agents
 * Playground or any client but Teams; a link to our own HTTP server works in
 * every client, needs no new permission, and leaves no copy anywhere but
 * where the user saves it. The card's "Download CSV" (Action.Execute, checked
 * and audited like any action) answers with an Action.OpenUrl to
 * `GET /stats/<token>.csv`.
 *
 * The token is the permission, so it is signed (HMAC-SHA256), names only the
 * pathway, year and language, expires after a few minutes, and is spent on
 * first use. "Spent" is remembered by this process: with several instances a
 * link could be fetched once from each within its lifetime. That is accepted:
 * the file is the same suppressed table its holder was just shown, and the
 * signature, not the memory, is what keeps others out. The secret comes from
 * DOWNLOAD_LINK_SECRET (required with several instances) or is made at start.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

/** What a link lets its holder download: a year's statistics, or everything held about one person. */
export type DownloadGrant =
  | { readonly kind: 'statistics'; readonly pathway: string; readonly year: number; readonly locale: string }
  | { readonly kind: 'export'; readonly referralId: string; readonly actorAadObjectId: string; readonly locale: string };

export type Redeemed = { readonly ok: true; readonly grant: DownloadGrant } | { readonly ok: false; readonly reason: 'invalid' | 'expired' | 'used' };

const common = {
  l: z.string().regex(/^[a-zA-Z-]{2,10}$/),
  /** Expiry, Unix seconds. */
  x: z.number().int(),
  /** Makes each link unique, so each is spent on its own. */
  n: z.string().regex(/^[A-Za-z0-9_-]{16,32}$/),
};
const payloadSchema = z.union([
  z.object({ k: z.literal('s').optional(), p: z.string().regex(/^[a-z][a-z0-9-]{0,39}$/), y: z.number().int().min(1900).max(9999), ...common }).strict(),
  z.object({ k: z.literal('e'), r: z.string().uuid(), a: z.string().min(1).max(100), ...common }).strict(),
]);

/** Remembers used nonces where every instance sees them (the database); without one, this process remembers. */
export type SpendNonce = (nonce: string, expiresAt: Date) => Promise<boolean>;

export interface DownloadLinkOptions {
  readonly secret: Buffer;
  /** The public origin users reach this service on, e.g. https://desk.example.org (read when a link is made). */
  readonly baseUrl: () => string;
  readonly now: () => Date;
  readonly ttlMs?: number;
  /** Records a nonce as used; false when it already was. */
  readonly spend?: SpendNonce;
}

export const DOWNLOAD_LINK_TTL_MS = 5 * 60_000;

export class DownloadLinks {
  /** Nonces already used, with when they expire (forgotten after that: the signature refuses them anyway). */
  private readonly spent = new Map<string, number>();
  private readonly ttlMs: number;

  constructor(private readonly o: DownloadLinkOptions) {
    if (o.secret.length < 32) throw new Error('download link secret must be at least 32 bytes');
    this.ttlMs = o.ttlMs ?? DOWNLOAD_LINK_TTL_MS;
  }

  private sign(payload: string): string {
    return createHmac('sha256', this.o.secret).update(payload).digest('base64url');
  }

  /** A link to the statistics CSV of one year, and when it stops working. */
  statisticsCsv(grant: { pathway: string; year: number; locale: string }): { readonly url: string; readonly expiresAt: Date } {
    return this.link('stats', 'csv', { p: grant.pathway, y: grant.year, l: grant.locale });
  }

  /** A link to the subject-access export of one record, for the supervisor who asked for it. */
  recordExport(grant: { referralId: string; actorAadObjectId: string; locale: string }): { readonly url: string; readonly expiresAt: Date } {
    return this.link('exports', 'json', { k: 'e', r: grant.referralId, a: grant.actorAadObjectId, l: grant.locale });
  }

  private link(folder: string, ext: string, fields: Record<string, unknown>): { readonly url: string; readonly expiresAt: Date } {
    const expiresAt = new Date(this.o.now().getTime() + this.ttlMs);
    const payload = Buffer.from(JSON.stringify({ ...fields, x: Math.floor(expiresAt.getTime() / 1000), n: randomBytes(16).toString('base64url') })).toString('base64url');
    const token = `${payload}.${this.sign(payload)}`;
    return { url: `${this.o.baseUrl().replace(/\/+$/, '')}/${folder}/${token}.${ext}`, expiresAt };
  }

  /** Checks a token from a request path: signature first (in constant time), then its kind, expiry, and whether it was used. */
  async redeem(token: string, kind: DownloadGrant['kind']): Promise<Redeemed> {
    const m = /^([A-Za-z0-9_-]{1,400})\.([A-Za-z0-9_-]{43})$/.exec(token);
    if (!m) return { ok: false, reason: 'invalid' };
    const given = Buffer.from(m[2]!, 'base64url');
    const expected = Buffer.from(this.sign(m[1]!), 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'invalid' };
    let parsed;
    try {
      parsed = payloadSchema.safeParse(JSON.parse(Buffer.from(m[1]!, 'base64url').toString('utf8')));
    } catch {
      return { ok: false, reason: 'invalid' };
    }
    if (!parsed.success) return { ok: false, reason: 'invalid' };
    const p = parsed.data;
    // A link is good for its own kind of download only, checked before it is spent.
    if (('r' in p ? 'export' : 'statistics') !== kind) return { ok: false, reason: 'invalid' };
    const nowMs = this.o.now().getTime();
    if (p.x * 1000 <= nowMs) return { ok: false, reason: 'expired' };
    if (this.o.spend) {
      if (!(await this.o.spend(p.n, new Date(p.x * 1000)))) return { ok: false, reason: 'used' };
    } else {
      this.forgetExpired(nowMs);
      if (this.spent.has(p.n)) return { ok: false, reason: 'used' };
      this.spent.set(p.n, p.x * 1000);
    }
    const grant: DownloadGrant =
      'r' in p ? { kind: 'export', referralId: p.r, actorAadObjectId: p.a, locale: p.l } : { kind: 'statistics', pathway: p.p, year: p.y, locale: p.l };
    return { ok: true, grant };
  }

  private forgetExpired(nowMs: number): void {
    for (const [n, until] of this.spent) if (until <= nowMs) this.spent.delete(n);
  }
}
