/**
 * The outbox of proactive messages. Rows are written in the same transaction
 * as the change that causes them; a deliverer claims due rows with
 * FOR UPDATE SKIP LOCKED under a lease, so several instances never send the
 * same row at once and a crashed claim is picked up again when its lease ends.
 */
import { and, eq, sql } from 'drizzle-orm';
import type { DatabaseOrTransaction } from '../client.js';
import { executeRows } from '../client.js';
import { outbox } from '../schema.js';

export interface OutboxMessage {
  readonly key: string;
  readonly kind: string;
  readonly recipientAadObjectId: string;
  /** Ids and references only; never personal data. */
  readonly payload: Record<string, unknown>;
  /** Hold for the recipient's morning digest until then, instead of sending now. */
  readonly holdUntil?: Date | undefined;
  /** The transfer or access request an approval card is about, so its delivered copies can be updated. */
  readonly subjectId?: string | undefined;
}

export interface ClaimedMessage extends OutboxMessage {
  readonly id: string;
  readonly attempts: number;
}

/** Queues messages; a key already queued is left as it is. */
export async function enqueueMessages(db: DatabaseOrTransaction, messages: readonly OutboxMessage[], now: Date): Promise<void> {
  if (messages.length === 0) return;
  await db
    .insert(outbox)
    .values(
      messages.map(({ holdUntil, ...m }) => ({ ...m, status: holdUntil ? ('held' as const) : ('pending' as const), nextAttemptAt: holdUntil ?? now, createdAt: now })),
    )
    .onConflictDoNothing({ target: outbox.key });
}

/**
 * Claims up to `limit` messages due by `dueBy`, for `leaseMs` from `now`, and
 * at most `perRecipient` for any one person: Teams lets a conversation take 8
 * messages in 2 s, so claiming more for one person would only hold them
 * under lease while they wait for the rate limit, and keep other people's
 * messages waiting behind them.
 */
export async function claimDueMessages(
  db: DatabaseOrTransaction,
  now: Date,
  limit: number,
  leaseMs: number,
  dueBy: Date = now,
  perRecipient = 8,
): Promise<ClaimedMessage[]> {
  const leaseUntil = new Date(now.getTime() + leaseMs);
  // Raw SQL: dates go as ISO text (postgres.js will not serialise a Date parameter here).
  const rows = await executeRows<{ id: string; key: string; kind: string; recipient_aad_object_id: string; payload: Record<string, unknown>; attempts: number }>(
    db,
    sql`update ${outbox} set status = 'sending', attempts = ${outbox.attempts} + 1, next_attempt_at = ${leaseUntil.toISOString()}::timestamptz
        where ${outbox.id} in (
          select ${outbox.id} from ${outbox}
          -- Repeated here, on the locking select: when another instance claimed a row after this
          -- statement's snapshot, the lock waits for it and re-checks only these conditions.
          where ${outbox.status} in ('pending', 'sending') and ${outbox.nextAttemptAt} <= ${dueBy.toISOString()}::timestamptz
            and ${outbox.id} in (
            select id from (
              select id, row_number() over (partition by recipient_aad_object_id order by next_attempt_at, id) as nth
              from (
                select id, recipient_aad_object_id, next_attempt_at from ${outbox}
                where status in ('pending', 'sending') and next_attempt_at <= ${dueBy.toISOString()}::timestamptz
                order by next_attempt_at
                limit ${limit * 10}) due
            ) ranked
            where nth <= ${perRecipient})
          order by ${outbox.nextAttemptAt}
          limit ${limit}
          for update skip locked)
        returning id, key, kind, recipient_aad_object_id, payload, attempts`,
  );
  return rows.map((r) => ({ id: r.id, key: r.key, kind: r.kind, recipientAadObjectId: r.recipient_aad_object_id, payload: r.payload, attempts: r.attempts }));
}

export async function markSent(db: DatabaseOrTransaction, id: string, now: Date, activityId?: string): Promise<void> {
  await db
    .update(outbox)
    .set({ status: 'sent', sentAt: now, lastError: null, ...(activityId ? { sentActivityId: activityId.slice(0, 200) } : {}) })
    .where(and(eq(outbox.id, id), eq(outbox.status, 'sending')));
}

export async function markRetry(db: DatabaseOrTransaction, id: string, nextAttemptAt: Date, error: string): Promise<void> {
  await db.update(outbox).set({ status: 'pending', nextAttemptAt, lastError: error.slice(0, 500) }).where(and(eq(outbox.id, id), eq(outbox.status, 'sending')));
}

/** Back to the queue without counting an attempt (a rate-limit slot was too far off). */
export async function markDeferred(db: DatabaseOrTransaction, id: string, nextAttemptAt: Date): Promise<void> {
  await db
    .update(outbox)
    .set({ status: 'pending', nextAttemptAt, attempts: sql`greatest(${outbox.attempts} - 1, 0)` })
    .where(and(eq(outbox.id, id), eq(outbox.status, 'sending')));
}

export async function markFinal(db: DatabaseOrTransaction, id: string, status: 'unreachable' | 'failed' | 'skipped', error: string): Promise<void> {
  await db.update(outbox).set({ status, lastError: error.slice(0, 500) }).where(and(eq(outbox.id, id), eq(outbox.status, 'sending')));
}

export async function messagesFor(db: DatabaseOrTransaction, recipientAadObjectId: string) {
  return db.select().from(outbox).where(eq(outbox.recipientAadObjectId, recipientAadObjectId));
}
