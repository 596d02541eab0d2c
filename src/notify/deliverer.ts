/**
 * Delivers queued proactive messages. Work is driven from the outbox table,
 * not from memory: a poll (and a nudge after each commit that queued
 * something) claims due rows under a lease; any instance may deliver any row.
 * The transport is a port, so only src/bot knows Teams.
 */
import type { Logger } from 'pino';
import type { Database } from '../db/client.js';
import { claimDueMessages, markFinal, markRetry, markSent, type ClaimedMessage } from '../db/repositories/outbox.js';
import { getConversationRefs, type StoredConversationRef } from '../db/repositories/conversation-refs.js';

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

/** Sends one message to one conversation; throws DeliveryError on failure. */
export type SendProactive = (reference: StoredConversationRef, message: ClaimedMessage) => Promise<void>;

export interface DelivererOptions {
  readonly db: Database;
  readonly send: SendProactive;
  readonly log: Logger;
  readonly now?: () => Date;
  readonly pollMs?: number;
  readonly batchSize?: number;
  readonly leaseMs?: number;
  readonly maxAttempts?: number;
}

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

  constructor(private readonly o: DelivererOptions) {
    this.now = o.now ?? (() => new Date());
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

  /** Claims and delivers due messages until none are due. */
  async drain(): Promise<void> {
    for (;;) {
      const batch = await claimDueMessages(this.o.db, this.now(), this.o.batchSize ?? 50, this.o.leaseMs ?? 60_000);
      if (batch.length === 0) return;
      const refs = await getConversationRefs(this.o.db, [...new Set(batch.map((m) => m.recipientAadObjectId))]);
      for (const m of batch) await this.deliverOne(m, refs.get(m.recipientAadObjectId));
    }
  }

  private async deliverOne(m: ClaimedMessage, ref: StoredConversationRef | undefined): Promise<void> {
    const log = this.o.log.child({ outboxId: m.id, kind: m.kind });
    if (!ref) {
      log.warn('recipient has no stored conversation (app not installed); not delivered');
      await markFinal(this.o.db, m.id, 'unreachable', 'no conversation reference');
      return;
    }
    try {
      await this.o.send(ref, m);
      await markSent(this.o.db, m.id, this.now());
    } catch (err) {
      const status = err instanceof DeliveryError ? err.status : undefined;
      if (status === 403 || status === 404) {
        log.warn({ status }, 'recipient unreachable');
        await markFinal(this.o.db, m.id, 'unreachable', `status ${status}`);
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
