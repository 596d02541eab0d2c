/**
 * The referral wizard's use-cases: start, answer a step, go back, save for
 * later, resume, edit from review, submit. Each checks that the draft is the
 * actor's own before anything else; the card data that names the draft and
 * step is untrusted.
 */
import type { AppDeps } from './context.js';
import type { Actor } from '../domain/directory.js';
import { personKey } from '../domain/approvals.js';
import { reviewDateAfterActivity } from './retention.js';
import { DomainError } from '../domain/errors.js';
import {
  findStep,
  firstIncompleteStep,
  stepIndex,
  toRawStrings,
  validateStep,
  type FieldError,
  type PathwayDefinition,
  type StepDefinition,
  type ValidationContext,
} from '../domain/forms.js';
import { randomUUID } from 'node:crypto';
import { addWorkingDays } from '../domain/working-days.js';
import { londonDate } from '../domain/time.js';
import { pathways, preventPathway } from '../forms/prevent.js';
import * as draftsRepo from '../db/repositories/drafts.js';
import type { Draft } from '../db/repositories/drafts.js';
import * as referralsRepo from '../db/repositories/referrals.js';
import type { Referral } from '../db/repositories/referrals.js';
import { appendAudit } from '../db/repositories/audit.js';
import { together } from '../db/client.js';
import { enqueueMessages } from '../db/repositories/outbox.js';
import { trainedCaseWorkers } from '../domain/permissions.js';
import { statisticsRecordOf } from '../domain/statistics.js';
import { insertReferralStatistics } from '../db/repositories/statistics.js';

/** What the bot should show next. */
export type WizardScreen =
  | {
      readonly kind: 'step';
      readonly draft: Draft;
      readonly pathway: PathwayDefinition;
      readonly step: StepDefinition;
      /** Raw strings to put back in the inputs. */
      readonly values: Record<string, string>;
      readonly errors: Record<string, FieldError>;
      /** The step was opened from the review card: Next returns there. */
      readonly fromReview: boolean;
    }
  | { readonly kind: 'danger'; readonly draft: Draft }
  | { readonly kind: 'saved'; readonly draft: Draft }
  | { readonly kind: 'submitted'; readonly referral: Referral; readonly alreadySubmitted: boolean };

export type StepIntent = 'next' | 'back' | 'save';

function pathwayOf(draft: Draft): PathwayDefinition {
  const p = pathways[draft.pathway];
  if (!p) throw new Error(`draft ${draft.id} has unknown pathway ${draft.pathway}`);
  return p;
}

function validationContext(deps: AppDeps, draft: Draft): ValidationContext {
  return { today: londonDate(deps.now()), answers: draft.answers, dynamicChoices: { areas: deps.directory.areas.map((a) => a.id) } };
}

function stepScreen(draft: Draft, step: StepDefinition, opts: { values?: Record<string, string>; errors?: Record<string, FieldError>; fromReview?: boolean } = {}): WizardScreen {
  return {
    kind: 'step',
    draft,
    pathway: pathwayOf(draft),
    step,
    values: opts.values ?? toRawStrings(draft.answers[step.id] ?? {}),
    errors: opts.errors ?? {},
    fromReview: opts.fromReview ?? false,
  };
}

/** Loads a draft for its owner. Someone else's draft is reported as not found, and the attempt is audited. */
async function ownDraft(deps: AppDeps, actor: Actor, draftId: string): Promise<Draft> {
  const draft = await draftsRepo.getDraft(deps.db, draftId);
  if (!draft) throw new DomainError('not_found');
  if (draft.ownerAadObjectId !== actor.aadObjectId) return denyForeignDraft(deps, actor, draft.id);
  return draft;
}

/** Someone else's draft: audited, and reported as not found (its existence is not confirmed). */
async function denyForeignDraft(deps: AppDeps, actor: Actor, draftId: string): Promise<never> {
  await appendAudit(deps.db, deps.now(), [{ actorAadObjectId: actor.aadObjectId, action: 'draft.access_denied', entityType: 'draft', entityId: draftId }]);
  throw new DomainError('not_found');
}

/** A submitted draft answers with its referral (so a stale card shows the reference), never an edit. */
async function submittedScreen(deps: AppDeps, draft: Draft): Promise<WizardScreen> {
  const referral = await referralsRepo.findReferralByDraft(deps.db, draft.id);
  if (!referral) throw new DomainError('already_submitted');
  return { kind: 'submitted', referral, alreadySubmitted: true };
}

/** `refer`: opens a new draft at the first step, with the referrer's name prefilled from Teams. */
export async function startReferral(deps: AppDeps, actor: Actor, pathway: PathwayDefinition = preventPathway): Promise<WizardScreen> {
  const first = pathway.steps[0]!;
  const now = deps.now();
  const draft = await deps.db.transaction(async (tx) => {
    const d = await draftsRepo.createDraft(tx, {
      ownerAadObjectId: actor.aadObjectId,
      pathway: pathway.id,
      currentStep: first.id,
      answers: { [pathway.referrerNameField.step]: { [pathway.referrerNameField.field]: actor.name.slice(0, 120) } },
      now,
    });
    await appendAudit(tx, now, [{ actorAadObjectId: actor.aadObjectId, action: 'draft.create', entityType: 'draft', entityId: d.id }]);
    return d;
  });
  return stepScreen(draft, first);
}

/** `drafts` → Continue: back to where the referrer was. */
export async function resumeDraft(deps: AppDeps, actor: Actor, draftId: string): Promise<WizardScreen> {
  const draft = await ownDraft(deps, actor, draftId);
  if (draft.status === 'submitted') return submittedScreen(deps, draft);
  const step = findStep(pathwayOf(draft), draft.currentStep) ?? pathwayOf(draft).steps[0]!;
  return stepScreen(draft, step);
}

/** Review → Edit: opens a step; its Next returns to the review. */
export async function editStep(deps: AppDeps, actor: Actor, draftId: string, stepId: string): Promise<WizardScreen> {
  const draft = await ownDraft(deps, actor, draftId);
  if (draft.status === 'submitted') return submittedScreen(deps, draft);
  const step = findStep(pathwayOf(draft), stepId);
  if (!step) throw new DomainError('invalid_input');
  const moved = await draftsRepo.moveDraft(deps.db, { id: draft.id, ownerAadObjectId: actor.aadObjectId, currentStep: step.id, now: deps.now() });
  return stepScreen(moved ?? draft, step, { fromReview: true });
}

/**
 * A step's Next, Back or Save and finish later. Next checks the step in full;
 * Back and Save keep whatever valid answers were given. A bad answer re-shows
 * the step with messages beside the fields and saves nothing.
 */
export async function answerStep(
  deps: AppDeps,
  actor: Actor,
  input: { draftId: string; stepId: string; intent: StepIntent; raw: Record<string, unknown>; fromReview: boolean },
): Promise<WizardScreen> {
  const draft = await ownDraft(deps, actor, input.draftId);
  if (draft.status === 'submitted') return submittedScreen(deps, draft);
  const pathway = pathwayOf(draft);
  const step = findStep(pathway, input.stepId);
  if (!step || step.review) throw new DomainError('invalid_input');

  const result = validateStep(pathway, step, input.raw, validationContext(deps, draft), input.intent === 'next' ? 'complete' : 'partial');
  if (!result.ok) return stepScreen(draft, step, { values: result.values, errors: result.errors, fromReview: input.fromReview });

  const at = stepIndex(pathway, step.id);
  const dangerYes = step.dangerField !== undefined && result.values[step.dangerField] === 'yes' && input.intent === 'next';
  let target: StepDefinition;
  if (input.intent === 'back') target = pathway.steps[Math.max(0, at - 1)]!;
  else if (input.intent === 'save') target = step;
  else if (input.fromReview) target = pathway.steps[pathway.steps.length - 1]!;
  else target = pathway.steps[Math.min(pathway.steps.length - 1, at + 1)]!;

  const saved = await draftsRepo.saveStepAnswers(deps.db, {
    id: draft.id,
    ownerAadObjectId: actor.aadObjectId,
    pathway: draft.pathway,
    stepId: step.id,
    values: result.values,
    currentStep: target.id,
    now: deps.now(),
  });
  if (!saved) {
    // Submitted in another tab between our read and write.
    const again = await ownDraft(deps, actor, input.draftId);
    return submittedScreen(deps, again);
  }
  if (input.intent === 'save') return { kind: 'saved', draft: saved };
  if (dangerYes) return { kind: 'danger', draft: saved };
  return stepScreen(saved, target);
}

/**
 * Submits a draft. Idempotent: a second press, a second tab or a retried
 * request returns the same referral. The draft row lock serialises
 * concurrent presses; the unique draft_id index backs it up.
 */
export async function submitReferral(deps: AppDeps, actor: Actor, input: { draftId: string; raw: Record<string, unknown> }): Promise<WizardScreen> {
  const now = deps.now();
  const today = londonDate(now);

  // undefined: someone else's draft (audited below, outside this transaction).
  const outcome = await deps.db.transaction(async (tx): Promise<WizardScreen | undefined> => {
    const draft = await draftsRepo.getDraftForUpdate(tx, input.draftId);
    if (!draft) throw new DomainError('not_found');
    if (draft.ownerAadObjectId !== actor.aadObjectId) return undefined;
    if (draft.status === 'submitted') {
      const existing = await referralsRepo.findReferralByDraft(tx, draft.id);
      if (!existing) throw new DomainError('already_submitted');
      return { kind: 'submitted', referral: existing, alreadySubmitted: true };
    }
    const pathway = pathwayOf(draft);
    const reviewStep = pathway.steps[pathway.steps.length - 1]!;
    const ctx = validationContext(deps, draft);
    const declaration = validateStep(pathway, reviewStep, input.raw, ctx, 'complete');
    if (!declaration.ok) return stepScreen(draft, reviewStep, { values: declaration.values, errors: declaration.errors });

    const answers = { ...draft.answers, [reviewStep.id]: declaration.values };
    const missing = firstIncompleteStep(pathway, answers, { today, dynamicChoices: ctx.dynamicChoices });
    if (missing) {
      const step = findStep(pathway, missing)!;
      const check = validateStep(pathway, step, toRawStrings(answers[missing] ?? {}), { ...ctx, answers }, 'complete');
      return stepScreen(draft, step, { errors: check.ok ? {} : check.errors, fromReview: true });
    }

    const areaId = String(answers[pathway.areaField.step]?.[pathway.areaField.field]);
    const year = Number(today.slice(0, 4));
    // The shared locks (the year's reference counter, the audit chain) are taken last,
    // so concurrent submits wait on each other for as few round trips as possible.
    const [, referral] = await together([
      draftsRepo.markDraftSubmitted(tx, draft.id, now),
      referralsRepo.insertNumberedReferral(tx, {
        id: randomUUID(),
        prefix: pathway.referencePrefix,
        year,
        pathway: pathway.id,
        draftId: draft.id,
        referrerAadObjectId: actor.aadObjectId,
        areaId,
        answers,
        submittedAt: now,
        triageDueOn: addWorkingDays(today, pathway.triageWorkingDays),
        personKey: personKey(answers[pathway.personNameFields.step]?.[pathway.personNameFields.last], answers[pathway.ageFields.step]?.[pathway.ageFields.dateOfBirth]),
        reviewDueOn: reviewDateAfterActivity(pathway, today),
      }),
    ]);
    // From here to commit, every other submit of the year waits on the counter row:
    // the writes that follow go to the database together, not one round trip each.
    const recipients = trainedCaseWorkers(deps.directory, areaId, today);
    await together([
      // The de-identified record the statistics count: it outlives the referral (DESIGN §7).
      insertReferralStatistics(tx, referral.id, statisticsRecordOf(pathway, answers, areaId, today)),
      // Trained officers and supervisors of the chosen area, and only that area, are told.
      enqueueMessages(
        tx,
        recipients.map((recipient) => ({
          key: `referral.new:${referral.id}:${recipient}`,
          kind: 'referral.new',
          recipientAadObjectId: recipient,
          payload: { referralId: referral.id, reference: referral.reference, areaId, submittedAt: now.toISOString() },
        })),
        now,
      ),
      appendAudit(tx, now, [{ actorAadObjectId: actor.aadObjectId, action: 'referral.create', entityType: 'referral', entityId: referral.id }]),
    ]);
    return { kind: 'submitted', referral, alreadySubmitted: false };
  });
  if (!outcome) return denyForeignDraft(deps, actor, input.draftId);
  if (outcome.kind === 'submitted' && !outcome.alreadySubmitted) deps.messagesQueued();
  return outcome;
}

/** `drafts`: the actor's unfinished referrals, newest first. */
export async function listDrafts(deps: AppDeps, actor: Actor): Promise<Draft[]> {
  return draftsRepo.listOpenDrafts(deps.db, actor.aadObjectId);
}
