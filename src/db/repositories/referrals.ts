/** Submitted referrals and their reference numbers. */
import { desc, eq, sql } from 'drizzle-orm';
import type { DatabaseOrTransaction } from '../client.js';
import { executeRows, preparedPer } from '../client.js';
import { referenceCounters, referrals } from '../schema.js';
import type { Answers } from '../../domain/forms.js';
import type { ReferralStatus } from '../../domain/referral.js';
import { openAnswers, sealAnswers } from '../narrative-fields.js';

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
  /** London date by which the gateway assessment is due. */
  readonly triageDueOn: string;
}

const toReferral = ({ personKey: _key, reviewDueOn: _due, reviewRemindedFor: _reminded, ...row }: typeof referrals.$inferSelect): Referral => ({
  ...row,
  // Narrative answers are sealed in the database (src/db/narrative-fields.ts): opened here, sealed on insert.
  answers: openAnswers('referrals.answers', row.answers),
});

/** A referral by id (access requests carry the id, never the reference, until access is granted). */
export async function findReferralById(db: DatabaseOrTransaction, id: string): Promise<Referral | undefined> {
  const [row] = await db.select().from(referrals).where(eq(referrals.id, id));
  return row ? toReferral(row) : undefined;
}

/**
 * Takes the next number for `prefix` and `year` and inserts the referral
 * under it, in one statement: the counter row stays locked only from here to
 * commit, not across the rest of the submit. `reference` is built as
 * PREFIX-YEAR-NNNNNN.
 */
export async function insertNumberedReferral(
  db: DatabaseOrTransaction,
  r: Omit<Referral, 'status' | 'reference'> & { prefix: string; year: number; personKey?: string | null; reviewDueOn?: string | null },
): Promise<Referral> {
  const rows = await executeRows<{ reference: string; status: Referral['status'] }>(
    db,
    sql`with n as (
          insert into ${referenceCounters} (prefix, year, last) values (${r.prefix}, ${r.year}, 1)
          on conflict (prefix, year) do update set last = ${referenceCounters.last} + 1
          returning last)
        insert into ${referrals} (id, reference, pathway, draft_id, referrer_aad_object_id, area_id, answers, submitted_at, triage_due_on, person_key, review_due_on)
        select ${r.id}::uuid, ${r.prefix} || '-' || ${String(r.year)} || '-' || lpad(n.last::text, 6, '0'), ${r.pathway}, ${r.draftId}::uuid,
               ${r.referrerAadObjectId}, ${r.areaId}, ${JSON.stringify(sealAnswers('referrals.answers', r.pathway, r.answers))}::jsonb, ${r.submittedAt.toISOString()}::timestamptz, ${r.triageDueOn}::date, ${r.personKey ?? null}, ${r.reviewDueOn ?? null}::date
        from n
        returning reference, status`,
  );
  const row = rows[0]!;
  return { id: r.id, reference: row.reference, status: row.status, pathway: r.pathway, draftId: r.draftId, referrerAadObjectId: r.referrerAadObjectId, areaId: r.areaId, answers: r.answers, submittedAt: r.submittedAt, triageDueOn: r.triageDueOn };
}

export async function findReferralByDraft(db: DatabaseOrTransaction, draftId: string): Promise<Referral | undefined> {
  const [row] = await db.select().from(referrals).where(eq(referrals.draftId, draftId));
  return row ? toReferral(row) : undefined;
}

const byReference = preparedPer((db) => db.select().from(referrals).where(eq(referrals.reference, sql.placeholder('reference'))).prepare('referral_by_reference'));

/** Every officer's command starts here: prepared, one round trip. */
export async function findReferralByReference(db: DatabaseOrTransaction, reference: string): Promise<Referral | undefined> {
  const [row] = await byReference(db).execute({ reference });
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
