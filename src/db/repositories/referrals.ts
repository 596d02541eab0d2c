/** Submitted referrals and their reference numbers. */
import { desc, eq, sql } from 'drizzle-orm';
import type { DatabaseOrTransaction } from '../client.js';
import { referenceCounters, referrals } from '../schema.js';
import type { Answers } from '../../domain/forms.js';
import type { ReferralStatus } from '../../domain/referral.js';

export interface Referral {
  readonly id: string;
  readonly reference: string;
  readonly pathway: string;
  readonly draftId: string;
  readonly referrerAadObjectId: string;
  readonly areaId: string;
  readonly status: ReferralStatus;
  readonly answers: Answers;
  readonly submittedAt: Date;
}

const toReferral = (row: typeof referrals.$inferSelect): Referral => ({ ...row, answers: row.answers as Answers });

/** Advances and returns the counter for a prefix and year; the row lock is held to the end of the transaction. */
export async function nextReferenceNumber(db: DatabaseOrTransaction, prefix: string, year: number): Promise<number> {
  const [row] = await db
    .insert(referenceCounters)
    .values({ prefix, year, last: 1 })
    .onConflictDoUpdate({ target: [referenceCounters.prefix, referenceCounters.year], set: { last: sql`${referenceCounters.last} + 1` } })
    .returning({ last: referenceCounters.last });
  return row!.last;
}

export async function insertReferral(db: DatabaseOrTransaction, r: Omit<Referral, 'id' | 'status'>): Promise<Referral> {
  const [row] = await db.insert(referrals).values(r).returning();
  return toReferral(row!);
}

export async function findReferralByDraft(db: DatabaseOrTransaction, draftId: string): Promise<Referral | undefined> {
  const [row] = await db.select().from(referrals).where(eq(referrals.draftId, draftId));
  return row ? toReferral(row) : undefined;
}

export async function findReferralByReference(db: DatabaseOrTransaction, reference: string): Promise<Referral | undefined> {
  const [row] = await db.select().from(referrals).where(eq(referrals.reference, reference));
  return row ? toReferral(row) : undefined;
}

/** A referrer's own referrals: reference, status and date only (never the assessment). */
export async function listReferralsByReferrer(
  db: DatabaseOrTransaction,
  referrerAadObjectId: string,
  limit = 50,
): Promise<Array<Pick<Referral, 'id' | 'reference' | 'status' | 'submittedAt'>>> {
  return db
    .select({ id: referrals.id, reference: referrals.reference, status: referrals.status, submittedAt: referrals.submittedAt })
    .from(referrals)
    .where(eq(referrals.referrerAadObjectId, referrerAadObjectId))
    .orderBy(desc(referrals.submittedAt))
    .limit(limit);
}
