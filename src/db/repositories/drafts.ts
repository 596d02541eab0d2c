/** Referral drafts: every answer is saved as it is given, one step's answers at a time. */
import { and, desc, eq, sql } from 'drizzle-orm';
import type { DatabaseOrTransaction } from '../client.js';
import { preparedPer } from '../client.js';
import { drafts } from '../schema.js';
import type { Answers, StepAnswers } from '../../domain/forms.js';
import { openAnswers, sealAnswers, sealStepAnswers } from '../narrative-fields.js';

export interface Draft {
  readonly id: string;
  readonly ownerAadObjectId: string;
  readonly pathway: string;
  readonly currentStep: string;
  readonly answers: Answers;
  readonly status: 'open' | 'submitted';
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

// Narrative answers are sealed in the database (src/db/narrative-fields.ts): opened here, sealed on write.
const toDraft = (row: typeof drafts.$inferSelect): Draft => ({ ...row, answers: openAnswers('drafts.answers', row.answers) });

export async function createDraft(
  db: DatabaseOrTransaction,
  d: { ownerAadObjectId: string; pathway: string; currentStep: string; answers: Answers; now: Date },
): Promise<Draft> {
  const [row] = await db
    .insert(drafts)
    .values({ ownerAadObjectId: d.ownerAadObjectId, pathway: d.pathway, currentStep: d.currentStep, answers: sealAnswers('drafts.answers', d.pathway, d.answers), createdAt: d.now, updatedAt: d.now })
    .returning();
  return toDraft(row!);
}

const getDraftQuery = preparedPer((db) => db.select().from(drafts).where(eq(drafts.id, sql.placeholder('id'))).prepare('get_draft'));

export async function getDraft(db: DatabaseOrTransaction, id: string): Promise<Draft | undefined> {
  const [row] = await getDraftQuery(db).execute({ id });
  return row ? toDraft(row) : undefined;
}

/** The same read, holding a row lock until the transaction ends (submit uses it to serialise double presses). */
export async function getDraftForUpdate(db: DatabaseOrTransaction, id: string): Promise<Draft | undefined> {
  const [row] = await db.select().from(drafts).where(eq(drafts.id, id)).for('update');
  return row ? toDraft(row) : undefined;
}

/**
 * Replaces one step's answers and moves the draft's position, atomically and
 * only while the draft is open and owned by `owner`. Returns the new draft,
 * or undefined when nothing matched (submitted meanwhile, or not theirs).
 */
export async function saveStepAnswers(
  db: DatabaseOrTransaction,
  s: { id: string; ownerAadObjectId: string; pathway: string; stepId: string; values: StepAnswers; currentStep: string; now: Date },
): Promise<Draft | undefined> {
  const [row] = await saveStepQuery(db).execute({
    id: s.id,
    owner: s.ownerAadObjectId,
    stepId: s.stepId,
    values: JSON.stringify(sealStepAnswers('drafts.answers', s.pathway, s.stepId, s.values)),
    currentStep: s.currentStep,
    now: s.now.toISOString(),
  });
  return row ? toDraft(row) : undefined;
}

const saveStepQuery = preparedPer((db) =>
  db
    .update(drafts)
    .set({
      answers: sql`jsonb_set(${drafts.answers}, array[${sql.placeholder('stepId')}]::text[], ${sql.placeholder('values')}::jsonb, true)`,
      currentStep: sql`${sql.placeholder('currentStep')}`,
      updatedAt: sql`${sql.placeholder('now')}::timestamptz`,
    })
    .where(and(eq(drafts.id, sql.placeholder('id')), eq(drafts.ownerAadObjectId, sql.placeholder('owner')), eq(drafts.status, 'open')))
    .returning()
    .prepare('save_step_answers'),
);

/** Moves the position only (e.g. Back with nothing typed, or going to a step to edit it). */
export async function moveDraft(
  db: DatabaseOrTransaction,
  s: { id: string; ownerAadObjectId: string; currentStep: string; now: Date },
): Promise<Draft | undefined> {
  const [row] = await db
    .update(drafts)
    .set({ currentStep: s.currentStep, updatedAt: s.now })
    .where(and(eq(drafts.id, s.id), eq(drafts.ownerAadObjectId, s.ownerAadObjectId), eq(drafts.status, 'open')))
    .returning();
  return row ? toDraft(row) : undefined;
}

export async function listOpenDrafts(db: DatabaseOrTransaction, ownerAadObjectId: string, limit = 20): Promise<Draft[]> {
  const rows = await db
    .select()
    .from(drafts)
    .where(and(eq(drafts.ownerAadObjectId, ownerAadObjectId), eq(drafts.status, 'open')))
    .orderBy(desc(drafts.updatedAt))
    .limit(limit);
  return rows.map(toDraft);
}

export async function markDraftSubmitted(db: DatabaseOrTransaction, id: string, now: Date): Promise<void> {
  await db.update(drafts).set({ status: 'submitted', updatedAt: now }).where(eq(drafts.id, id));
}
