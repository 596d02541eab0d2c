/**
 * Delivers queued proactive messages. Work is driven from the outbox table,
 * not from memory: a poll (and a nudge after each commit that queued
 * something) claims due rows under a lease; any instance may deliver any row.
 * The transport is a port, so only src/bot knows Teams.
 */
import type { Logger } from 'pino';
import type { Database } from '../db/client.js';
import { claimDueMessages, markDeferred, markFinal, markRetry, markSent, type ClaimedMessage } from '../db/repositories/outbox.js';
import { getConversationRefs, type ConversationTarget, type StoredConversationRef } from '../db/repositories/conversation-refs.js';
import { SlidingWindowLimiter, TEAMS_PER_APP, TEAMS_PER_CONVERSATION, shareOf } from './rate-limit.js';

/** What the transport reports when a send fails. */
export class DeliveryError extends Error {
  constructor(
    message: string,
    /** HTTP status from the Bot Connector, when there was one. */
    readonly status?: number,
    /** Seconds the service asked us to wait (Retry-After). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'DeliveryError';
  }
}

/**
 * Sends one message to one conversation; throws DeliveryError on failure.
 * `skipped`: nothing left worth saying (the action was completed before its
 * reminder went); `{ activityId }`: sent, and Teams' id for it is kept so the
 * card can be updated in place later (approval cards).
 */
export type SendProactive = (reference: StoredConversationRef, message: ClaimedMessage) => Promise<'sent' | 'skipped' | { readonly activityId: string }>;

export interface DelivererOptions {
  readonly db: Database;
  readonly send: SendProactive;
  readonly log: Logger;
  readonly now?: () => Date;
  readonly pollMs?: number;
  readonly batchSize?: number;
  readonly leaseMs?: number;
  readonly maxAttempts?: number;
  /** Sends in flight at once (the rate limits still apply). */
  readonly concurrency?: number;
  /** This instance's share of Teams' per-app limit (1 / number of instances). */
  readonly appShare?: number;
  /** Told when a recipient cannot be reached (blocked or removed the app, or never installed it). */
  readonly onUnreachable?: (aadObjectId: string, reason: 'blocked' | 'notInstalled', kind: string) => Promise<void>;
}

/** A send that would wait longer than this for a rate-limit slot goes back to the outbox instead. */
const MAX_WAIT_MS = 5000;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const RETRYABLE = new Set([408, 412, 429, 500, 502, 503, 504]);

/** Backoff with full jitter, honouring Retry-After when the service gave one. */
export function retryDelayMs(attempt: number, retryAfterSeconds?: number, random: () => number = Math.random): number {
  if (retryAfterSeconds !== undefined && retryAfterSeconds >= 0) return Math.ceil(retryAfterSeconds * 1000);
  const cap = Math.min(60_000, 1000 * 2 ** Math.min(attempt, 10));
  return Math.floor(500 + random() * cap);
}

export class OutboxDeliverer {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private readonly now: () => Date;
  private readonly perConversation = new SlidingWindowLimiter(TEAMS_PER_CONVERSATION);
  private readonly perApp: SlidingWindowLimiter;

  constructor(private readonly o: DelivererOptions) {
    this.now = o.now ?? (() => new Date());
    this.perApp = new SlidingWindowLimiter(shareOf(TEAMS_PER_APP, o.appShare ?? 1));
  }

  /** Starts polling. */
  start(): void {
    this.stopped = false;
    this.timer = setInterval(() => this.kick(), this.o.pollMs ?? 5000);
    this.timer.unref();
    this.kick();
  }

  /** Asks for a delivery pass now (coalesced with one already running). */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain()
      .catch((err: unknown) => this.o.log.error({ err }, 'outbox delivery pass failed'))
      .finally(() => {
        this.running = undefined;
        if (this.again && !this.stopped) {
          this.again = false;
          this.kick();
        }
      });
  }

  /** Waits for the current pass (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.idle();
  }

  /**
   * Claims and delivers the messages due when the pass began. A message put
   * back for a retry is due later than that, so one pass never spins on a
   * recipient that keeps answering 429.
   */
  async drain(): Promise<void> {
    const passStart = this.now();
    for (;;) {
      const batch = await claimDueMessages(this.o.db, this.now(), this.o.batchSize ?? 50, this.o.leaseMs ?? 60_000, passStart);
      if (batch.length === 0) return;
      const refs = await getConversationRefs(this.o.db, [...new Set(batch.map((m) => m.recipientAadObjectId))]);
      // A few sends in flight at once; the limiters keep them within Teams' limits.
      let next = 0;
      const worker = async () => {
        while (next < batch.length) {
          const m = batch[next++]!;
          await this.deliverOne(m, refs.get(m.recipientAadObjectId));
        }
      };
      await Promise.all(Array.from({ length: Math.min(this.o.concurrency ?? 8, batch.length) }, worker));
    }
  }

  /**
   * Waits for a slot under both limits, then takes it. Returns false when the
   * wait would be long: the message goes back to the outbox for later.
   */
  private async slot(conversation: string): Promise<boolean> {
    for (;;) {
      const now = Date.now();
      const wait = Math.max(this.perApp.delay('app', now), this.perConversation.delay(conversation, now));
      if (wait === 0) {
        this.perApp.take('app', now);
        this.perConversation.take(conversation, now);
        return true;
      }
      if (wait > MAX_WAIT_MS) return false;
      await sleep(wait);
    }
  }

  private async unreachable(m: ClaimedMessage, reason: 'blocked' | 'notInstalled', detail: string): Promise<void> {
    await markFinal(this.o.db, m.id, 'unreachable', detail);
    try {
      await this.o.onUnreachable?.(m.recipientAadObjectId, reason, m.kind);
    } catch (err) {
      this.o.log.error({ err, outboxId: m.id }, 'could not record an unreachable recipient');
    }
  }

  private async deliverOne(m: ClaimedMessage, target: ConversationTarget | undefined): Promise<void> {
    const log = this.o.log.child({ outboxId: m.id, kind: m.kind });
    if (!target) {
      log.warn('recipient has no stored conversation (app not installed); not delivered');
      await this.unreachable(m, 'notInstalled', 'no conversation reference');
      return;
    }
    if (target.unreachableSince) {
      await this.unreachable(m, 'blocked', 'recipient unreachable since an earlier 403/404');
      return;
    }
    if (!(await this.slot(m.recipientAadObjectId))) {
      await markDeferred(this.o.db, m.id, new Date(this.now().getTime() + MAX_WAIT_MS));
      return;
    }
    try {
      const outcome = await this.o.send(target.reference, m);
      if (outcome === 'skipped') await markFinal(this.o.db, m.id, 'skipped', 'nothing left to say');
      else await markSent(this.o.db, m.id, this.now(), typeof outcome === 'object' ? outcome.activityId : undefined);
    } catch (err) {
      const status = err instanceof DeliveryError ? err.status : undefined;
      if (status === 403 || status === 404) {
        log.warn({ status }, 'recipient unreachable');
        await this.unreachable(m, 'blocked', `status ${status}`);
      } else if ((status === undefined || RETRYABLE.has(status)) && m.attempts < (this.o.maxAttempts ?? 12)) {
        const delay = retryDelayMs(m.attempts, err instanceof DeliveryError ? err.retryAfterSeconds : undefined);
        log.warn({ status, delay }, 'delivery failed; will retry');
        await markRetry(this.o.db, m.id, new Date(this.now().getTime() + delay), String((err as Error).message));
      } else {
        log.error({ status }, 'delivery failed for good');
        await markFinal(this.o.db, m.id, 'failed', String((err as Error).message));
      }
    }
  }
}
