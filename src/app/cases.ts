/**
 * Officers' use-cases (DESIGN §3): the triage queue, the gateway assessment,
 * and the case tracker. Every function checks, itself, that the actor is a
 * trained officer or supervisor of the record's area, whatever the card
 * said; every view and change is audited, and so is every refusal.
 */
import { randomUUID } from 'node:crypto';
import type { AppDeps } from './context.js';
import type { Actor } from '../domain/directory.js';
import { DomainError } from '../domain/errors.js';
import { assertCanSeeArea, isCaseWorker, isTrained, trainedCaseWorkers } from '../domain/permissions.js';
import { londonDate } from '../domain/time.js';
import { addCalendarMonths } from '../domain/working-days.js';
import {
  caseKindFor,
  correctableKinds,
  type CaseEntry,
  type EntryKind,
  type TriageOutcome,
} from '../domain/case.js';
import { validateStep, type CaseFormId, type FieldError, type PathwayDefinition, type StepAnswers, type ValidationContext } from '../domain/forms.js';
import type { ReferralStatus } from '../domain/referral.js';
import { pathways, preventPathway } from '../forms/prevent.js';
import { appendAudit, type NewAuditEntry } from '../db/repositories/audit.js';
import * as referralsRepo from '../db/repositories/referrals.js';
import type { Referral } from '../db/repositories/referrals.js';
import * as casesRepo from '../db/repositories/cases.js';
import type { Case, CaseAction, CaseListItem, QueueItem, Triage } from '../db/repositories/cases.js';
import { enqueueMessages } from '../db/repositories/outbox.js';
import * as approvalsRepo from '../db/repositories/approvals.js';
import type { Transfer } from '../db/repositories/approvals.js';
import { requestTransfer, takeCase } from './approvals.js';
import { reviewDateAfterActivity } from './retention.js';
import * as retentionRepo from '../db/repositories/retention.js';
import * as statisticsRepo from '../db/repositories/statistics.js';
import { isAdoptedDecision } from '../domain/statistics.js';
import type { DatabaseOrTransaction, Transaction } from '../db/client.js';

const QUEUE_PAGE = 25;
/** The queue card counts the backlog up to here, then says "more than". */
export const QUEUE_COUNT_CAP = 500;
const CASES_PAGE = 50;
export const CHRONOLOGY_PAGE = 10;

/** Forms an officer fills in on a case (the triage form is on the referral). */
export type CaseForm = Exclude<CaseFormId, 'triage' | 'correction'>;
const caseForms: readonly CaseForm[] = ['consent', 'vulnerability', 'intervention', 'interventionReview', 'action', 'actionComplete', 'actionReassign', 'note', 'close', 'panel', 'contact', 'transfer'];
export const isCaseForm = (f: string): f is CaseForm => (caseForms as readonly string[]).includes(f);

/** Forms that may still be used once a case is closed: the scheduled reviews must be completable. */
const formsOnClosedCase: readonly CaseForm[] = ['actionComplete', 'actionReassign', 'note', 'contact'];

export interface CaseRecord {
  readonly referral: Referral;
  readonly pathway: PathwayDefinition;
  readonly triage: Triage | undefined;
  readonly case: Case | undefined;
}

export interface CaseSummary extends CaseRecord {
  readonly case: Case;
  readonly entries: readonly CaseEntry[];
  readonly openActions: readonly CaseAction[];
  /** A transfer to another area that waits for its supervisors. */
  readonly pendingTransfer: Transfer | undefined;
}

export type CaseScreen =
  | { readonly kind: 'queue'; readonly items: readonly QueueItem[]; readonly total: number }
  | { readonly kind: 'cases'; readonly items: readonly CaseListItem[] }
  | { readonly kind: 'referral'; readonly record: CaseRecord; readonly canTriage: boolean; readonly notice?: Notice }
  | { readonly kind: 'case'; readonly summary: CaseSummary; readonly notice?: Notice }
  | FormScreen
  | {
      readonly kind: 'chronology';
      readonly record: CaseRecord & { readonly case: Case };
      readonly entries: readonly CaseEntry[];
      /** Ids of the entries on this page that a later entry corrects. */
      readonly corrected: ReadonlySet<string>;
      /** When each entry that this page's corrections replace was made. */
      readonly correctedAt: ReadonlyMap<string, Date>;
      readonly page: number;
      readonly pages: number;
    };

/** A message shown at the top of the card after a change ("Consent updated", "Already closed by …"). */
export interface Notice {
  readonly key: string;
  readonly params?: Record<string, string>;
  readonly tone: 'good' | 'attention';
}

export interface FormScreen {
  readonly kind: 'form';
  readonly form: CaseFormId;
  readonly record: CaseRecord;
  /** The action, intervention or entry the form is about. */
  readonly subjectId?: string;
  /** When correcting: the entry being corrected (the form then also asks why). */
  readonly corrects?: CaseEntry;
  /** Raw strings to show in the inputs. */
  readonly values: Record<string, string>;
  readonly errors: Record<string, FieldError>;
  /** Officers an action may be given to (trained, of the record's area). */
  readonly officers: readonly string[];
}

// ---------------------------------------------------------------------------
// Access

/** Refuses people with no case role before anything is read: they learn nothing, not even whether a reference exists. */
async function assertCaseWorker(deps: AppDeps, actor: Actor, action: string, entityType: string, entityId: string): Promise<void> {
  if (isCaseWorker(actor) && isTrained(actor, londonDate(deps.now()))) return;
  await appendAudit(deps.db, deps.now(), [{ actorAadObjectId: actor.aadObjectId, action: `${action}_denied`, entityType, entityId }]);
  throw new DomainError(isCaseWorker(actor) ? 'training_expired' : 'forbidden');
}

/**
 * Loads a referral (and its triage and case) for an officer, or refuses.
 * The area checked is the case's when there is one (a transfer moves it).
 */
export async function loadRecord(deps: AppDeps, actor: Actor, reference: string, action: string): Promise<CaseRecord> {
  await assertCaseWorker(deps, actor, action, 'reference', reference);
  const referral = await referralsRepo.findReferralByReference(deps.db, reference);
  if (!referral) throw new DomainError('not_found');
  const theCase = await casesRepo.findCaseByReferral(deps.db, referral.id);
  const areaId = theCase?.areaId ?? referral.areaId;
  try {
    assertCanSeeArea(actor, areaId, londonDate(deps.now()));
  } catch (e) {
    await appendAudit(deps.db, deps.now(), [
      { actorAadObjectId: actor.aadObjectId, action: `${action}_denied`, entityType: theCase ? 'case' : 'referral', entityId: theCase?.id ?? referral.id },
    ]);
    throw e;
  }
  const triage = await casesRepo.findTriage(deps.db, referral.id);
  return { referral, pathway: pathwayOf(referral), triage, case: theCase };
}

function pathwayOf(referral: Referral): PathwayDefinition {
  const p = pathways[referral.pathway];
  if (!p) throw new Error(`unknown pathway ${referral.pathway}`);
  return p;
}

export function requireCase(record: CaseRecord): asserts record is CaseRecord & { case: Case } {
  if (!record.case) throw new DomainError('not_found');
}

/** Trained officers and supervisors of an area: who may own actions there. */
export function officersOf(deps: AppDeps, areaId: string): string[] {
  return trainedCaseWorkers(deps.directory, areaId, londonDate(deps.now()));
}

function validationContext(deps: AppDeps, record: CaseRecord): ValidationContext {
  const areaId = record.case?.areaId ?? record.referral.areaId;
  const areas = deps.directory.areas.map((a) => a.id);
  return {
    today: londonDate(deps.now()),
    answers: record.referral.answers,
    dynamicChoices: { areas, otherAreas: areas.filter((a) => a !== areaId), officers: officersOf(deps, areaId) },
  };
}

// ---------------------------------------------------------------------------
// Queue and lists

/** `queue`: the untriaged referrals of the actor's areas, oldest first. */
export async function listQueue(deps: AppDeps, actor: Actor): Promise<CaseScreen> {
  await assertCaseWorker(deps, actor, 'queue.view', 'areas', actor.areas.join(','));
  const [items, total] = await Promise.all([casesRepo.listQueue(deps.db, actor.areas, QUEUE_PAGE), casesRepo.countQueue(deps.db, actor.areas, QUEUE_COUNT_CAP)]);
  await appendAudit(deps.db, deps.now(), [{ actorAadObjectId: actor.aadObjectId, action: 'queue.view', entityType: 'areas', entityId: actor.areas.join(',') }]);
  return { kind: 'queue', items, total };
}

/** `cases`: the open cases the actor owns. */
export async function listMyCases(deps: AppDeps, actor: Actor): Promise<CaseScreen> {
  await assertCaseWorker(deps, actor, 'cases.view', 'owner', actor.aadObjectId);
  // Prevent is the only pathway so far; a second one brings its own name fields (and a pathway column on the list).
  const items = await casesRepo.listOpenCasesOwnedBy(deps.db, actor.aadObjectId, preventPathway.personNameFields, CASES_PAGE);
  await appendAudit(deps.db, deps.now(), [{ actorAadObjectId: actor.aadObjectId, action: 'cases.view', entityType: 'owner', entityId: actor.aadObjectId }]);
  return { kind: 'cases', items };
}

// ---------------------------------------------------------------------------
// Opening a record

/**
 * `case <REF>` and the notice's Open button: the case summary when the
 * referral has a case, otherwise the referral with its triage (or the
 * button to record one). Audited as a view.
 */
export async function openRecord(deps: AppDeps, actor: Actor, reference: string): Promise<CaseScreen> {
  const record = await loadRecord(deps, actor, reference, 'referral.view');
  if (record.case) return caseSummaryScreen(deps, actor, record as CaseRecord & { case: Case });
  await appendAudit(deps.db, deps.now(), [{ actorAadObjectId: actor.aadObjectId, action: 'referral.view', entityType: 'referral', entityId: record.referral.id }]);
  return { kind: 'referral', record, canTriage: record.triage === undefined };
}

/** The referral itself, also when it has a case (the case card links to it). */
export async function openReferral(deps: AppDeps, actor: Actor, reference: string): Promise<CaseScreen> {
  const record = await loadRecord(deps, actor, reference, 'referral.view');
  await appendAudit(deps.db, deps.now(), [{ actorAadObjectId: actor.aadObjectId, action: 'referral.view', entityType: 'referral', entityId: record.referral.id }]);
  return { kind: 'referral', record, canTriage: record.triage === undefined };
}

export async function caseSummaryScreen(deps: AppDeps, actor: Actor, record: CaseRecord & { case: Case }, notice?: Notice): Promise<CaseScreen> {
  const [entries, openActions, pendingTransfer] = await Promise.all([
    casesRepo.listEntries(deps.db, record.case.id),
    casesRepo.listOpenActions(deps.db, record.case.id),
    approvalsRepo.findPendingTransfer(deps.db, record.case.id),
  ]);
  await appendAudit(deps.db, deps.now(), [{ actorAadObjectId: actor.aadObjectId, action: 'case.view', entityType: 'case', entityId: record.case.id }]);
  return { kind: 'case', summary: { ...record, entries, openActions, pendingTransfer }, ...(notice ? { notice } : {}) };
}

/** An officer of the area takes a case waiting in the area queue (after a transfer in). */
export async function takeFromQueue(deps: AppDeps, actor: Actor, reference: string): Promise<CaseScreen> {
  const record = await loadRecord(deps, actor, reference, 'case.take');
  requireCase(record);
  if (record.case.status !== 'open') throw new DomainError('case_closed');
  const notice = await takeCase(deps, actor, record);
  const fresh = await loadRecord(deps, actor, reference, 'case.view');
  requireCase(fresh);
  return caseSummaryScreen(deps, actor, fresh, notice);
}

/** The case card again (the forms' Cancel). */
export async function openCase(deps: AppDeps, actor: Actor, reference: string): Promise<CaseScreen> {
  const record = await loadRecord(deps, actor, reference, 'case.view');
  requireCase(record);
  return caseSummaryScreen(deps, actor, record);
}

// ---------------------------------------------------------------------------
// Triage

/** The gateway assessment form, unless someone has already recorded it. */
export async function startTriage(deps: AppDeps, actor: Actor, reference: string): Promise<CaseScreen> {
  const record = await loadRecord(deps, actor, reference, 'referral.triage');
  if (record.triage) return alreadyTriaged(deps, actor, record);
  return formScreen(deps, record, 'triage', {});
}

async function alreadyTriaged(deps: AppDeps, actor: Actor, record: CaseRecord): Promise<CaseScreen> {
  const t = record.triage!;
  const notice: Notice = { key: 'triage.already', params: { name: nameOf(deps, t.assessedByAadObjectId), at: t.assessedAt.toISOString() }, tone: 'attention' };
  if (record.case) return caseSummaryScreen(deps, actor, record as CaseRecord & { case: Case }, notice);
  await appendAudit(deps.db, deps.now(), [{ actorAadObjectId: actor.aadObjectId, action: 'referral.view', entityType: 'referral', entityId: record.referral.id }]);
  return { kind: 'referral', record, canTriage: false, notice };
}

function nameOf(deps: AppDeps, aadObjectId: string): string {
  return deps.directory.person(aadObjectId)?.name ?? aadObjectId;
}

/**
 * Records the gateway assessment. Exactly one wins: the insert does nothing
 * when the referral already has an assessment, and the loser is shown who
 * made it. Outcomes that need work open a case owned by the assessing
 * officer; the others close the referral. The referrer is told the status.
 */
export async function recordTriage(deps: AppDeps, actor: Actor, reference: string, raw: Record<string, unknown>): Promise<CaseScreen> {
  const record = await loadRecord(deps, actor, reference, 'referral.triage');
  if (record.triage) return alreadyTriaged(deps, actor, record);
  const step = record.pathway.caseForms.triage;
  const result = validateStep(record.pathway, step, raw, validationContext(deps, record), 'complete');
  if (!result.ok) return formScreen(deps, record, 'triage', { values: result.values, errors: result.errors });

  const now = deps.now();
  const v = result.values;
  const outcome = v.outcome as TriageOutcome;
  const kind = caseKindFor(outcome);
  const won = await deps.db.transaction(async (tx) => {
    const triage = await casesRepo.insertTriage(tx, {
      id: randomUUID(),
      referralId: record.referral.id,
      outcome,
      signpostedTo: outcome === 'signposted' && typeof v.signpostedTo === 'string' ? v.signpostedTo : null,
      rationale: String(v.rationale),
      contactMade: v.contactMade === 'yes',
      assessedByAadObjectId: actor.aadObjectId,
      assessedAt: now,
    });
    if (!triage) return false;
    const audit: NewAuditEntry[] = [{ actorAadObjectId: actor.aadObjectId, action: 'referral.triage', entityType: 'referral', entityId: record.referral.id }];
    const status: ReferralStatus = kind ? 'being_assessed' : 'closed';
    await casesRepo.setReferralStatus(tx, record.referral.id, status);
    await statisticsRepo.setStatisticsOutcome(tx, record.referral.id, outcome);
    // Closed with no further action: reviewed sooner than records that needed work (DESIGN §7).
    await retentionRepo.setReviewDue(tx, record.referral.id, reviewDateAfterActivity(record.pathway, londonDate(now), outcome === 'no_further_action'));
    if (kind) {
      const caseId = randomUUID();
      await casesRepo.insertCase(tx, { id: caseId, referralId: record.referral.id, areaId: record.referral.areaId, ownerAadObjectId: actor.aadObjectId, kind, openedAt: now, lastActivityAt: now });
      await casesRepo.insertEntries(tx, [entry(caseId, 'opened', { outcome }, actor, now)]);
      audit.push({ actorAadObjectId: actor.aadObjectId, action: 'case.open', entityType: 'case', entityId: caseId });
    }
    await tellReferrer(tx, record.referral, status, now);
    await appendAudit(tx, now, audit);
    return true;
  });
  const fresh = await loadRecord(deps, actor, reference, 'referral.view');
  if (!won) return alreadyTriaged(deps, actor, fresh);
  deps.messagesQueued();
  const notice: Notice = { key: kind ? 'triage.savedCase' : 'triage.savedClosed', tone: 'good' };
  if (fresh.case) return caseSummaryScreen(deps, actor, fresh as CaseRecord & { case: Case }, notice);
  await appendAudit(deps.db, deps.now(), [{ actorAadObjectId: actor.aadObjectId, action: 'referral.view', entityType: 'referral', entityId: fresh.referral.id }]);
  return { kind: 'referral', record: fresh, canTriage: false, notice };
}

/** The referrer hears that the status moved, never why (DESIGN §2). */
async function tellReferrer(tx: DatabaseOrTransaction, referral: Referral, status: ReferralStatus, now: Date): Promise<void> {
  await enqueueMessages(
    tx,
    [
      {
        key: `referral.status:${referral.id}:${status}`,
        kind: 'referral.status',
        recipientAadObjectId: referral.referrerAadObjectId,
        payload: { reference: referral.reference, status },
      },
    ],
    now,
  );
}

export function entry(caseId: string, kind: EntryKind, data: StepAnswers, actor: Actor, at: Date, extra: { id?: string; subjectId?: string | null; correctsEntryId?: string | null } = {}): casesRepo.NewEntry {
  return { id: extra.id ?? randomUUID(), caseId, kind, subjectId: extra.subjectId ?? null, correctsEntryId: extra.correctsEntryId ?? null, data, authorAadObjectId: actor.aadObjectId, at };
}

// ---------------------------------------------------------------------------
// Case forms

function formScreen(
  deps: AppDeps,
  record: CaseRecord,
  form: CaseFormId,
  o: { values?: Record<string, string>; errors?: Record<string, FieldError>; subjectId?: string; corrects?: CaseEntry },
): FormScreen {
  return {
    kind: 'form',
    form,
    record,
    ...(o.subjectId ? { subjectId: o.subjectId } : {}),
    ...(o.corrects ? { corrects: o.corrects } : {}),
    values: o.values ?? {},
    errors: o.errors ?? {},
    officers: officersOf(deps, record.case?.areaId ?? record.referral.areaId),
  };
}

/** What a form is about, checked against the case: the card's ids are not trusted. */
async function resolveSubject(db: DatabaseOrTransaction, record: CaseRecord & { case: Case }, form: CaseForm, subjectId: string | undefined): Promise<{ action?: CaseAction; intervention?: CaseEntry }> {
  if (form === 'actionComplete' || form === 'actionReassign') {
    const action = subjectId ? await casesRepo.findAction(db, record.case.id, subjectId) : undefined;
    if (!action) throw new DomainError('not_found');
    if (action.status !== 'open') throw new StaleForm({ key: 'case.conflict.actionNotOpen', tone: 'attention' });
    return { action };
  }
  if (form === 'interventionReview') {
    const entries = subjectId ? await casesRepo.listEntries(db, record.case.id) : [];
    const intervention = entries.find((e) => e.kind === 'intervention' && (e.subjectId ?? e.id) === subjectId);
    if (!intervention) throw new DomainError('not_found');
    return { intervention };
  }
  return {};
}

function assertFormAllowed(record: CaseRecord & { case: Case }, form: CaseForm): void {
  // Only a Channel case goes to the panel.
  if (form === 'panel' && record.case.kind !== 'channel') throw new DomainError('invalid_input');
  if (record.case.status !== 'closed' || formsOnClosedCase.includes(form)) return;
  // A Close pressed on a card that someone else's Close has overtaken.
  if (form === 'close') throw new StaleForm({ key: 'case.conflict.closed', tone: 'attention' });
  throw new DomainError('case_closed');
}

/**
 * The card was overtaken by someone else's change (the action was completed,
 * the entry corrected, the case closed): show the case as it is now, saying
 * so, rather than an error that invites trying again.
 */
class StaleForm extends Error {
  constructor(readonly notice: Notice) {
    super(notice.key);
  }
}

async function orCurrentCase(deps: AppDeps, actor: Actor, record: CaseRecord & { case: Case }, fn: () => Promise<CaseScreen>): Promise<CaseScreen> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof StaleForm) return caseSummaryScreen(deps, actor, record, e.notice);
    throw e;
  }
}

/** Shows one of the case's forms (Update consent, Add action, Complete…), empty or with the action's current owner. */
export async function showCaseForm(deps: AppDeps, actor: Actor, reference: string, form: CaseForm, subjectId: string | undefined): Promise<CaseScreen> {
  const record = await loadRecord(deps, actor, reference, `case.${form}`);
  requireCase(record);
  return orCurrentCase(deps, actor, record, async () => {
    assertFormAllowed(record, form);
    const subject = await resolveSubject(deps.db, record, form, subjectId);
    const values: Record<string, string> = {};
    if (form === 'actionReassign' && subject.action) values.owner = subject.action.ownerAadObjectId;
    if (form === 'action') values.owner = actor.aadObjectId;
    if (form === 'interventionReview' && subject.intervention) values.working = String(subject.intervention.data.working ?? '');
    return formScreen(deps, record, form, { values, ...(subjectId ? { subjectId } : {}) });
  });
}

/** Shows the form of an entry to correct, filled with what it says now. */
export async function showCorrection(deps: AppDeps, actor: Actor, reference: string, entryId: string): Promise<CaseScreen> {
  const record = await loadRecord(deps, actor, reference, 'case.correct');
  requireCase(record);
  return orCurrentCase(deps, actor, record, async () => {
    const target = await correctableEntry(deps.db, record, entryId);
    const values: Record<string, string> = {};
    for (const [k, v] of Object.entries(target.data)) values[k] = Array.isArray(v) ? v.join(',') : String(v);
    return formScreen(deps, record, target.kind as CaseFormId, { values, corrects: target });
  });
}

async function correctableEntry(db: DatabaseOrTransaction, record: CaseRecord & { case: Case }, entryId: string): Promise<CaseEntry> {
  const target = await casesRepo.findEntry(db, record.case.id, entryId);
  if (!target || !correctableKinds.includes(target.kind)) throw new DomainError('not_found');
  // A closed case's record stands; only its notes may still be corrected.
  if (record.case.status === 'closed' && target.kind !== 'note') throw new DomainError('case_closed');
  if (await casesRepo.isCorrected(db, target.id)) throw new StaleForm({ key: 'case.conflict.corrected', tone: 'attention' });
  return target;
}

export interface CaseFormInput {
  readonly form: CaseForm;
  readonly subjectId?: string | undefined;
  readonly correctsEntryId?: string | undefined;
  readonly raw: Record<string, unknown>;
}

/** Saves a case form: one new chronology entry (and the action or closure it records), audited, in one transaction. */
export async function submitCaseForm(deps: AppDeps, actor: Actor, reference: string, input: CaseFormInput): Promise<CaseScreen> {
  const record = await loadRecord(deps, actor, reference, `case.${input.form}`);
  requireCase(record);
  return orCurrentCase(deps, actor, record, () => saveCaseForm(deps, actor, reference, record, input));
}

async function saveCaseForm(deps: AppDeps, actor: Actor, reference: string, record: CaseRecord & { case: Case }, input: CaseFormInput): Promise<CaseScreen> {
  const c = record.case;
  const pathway = record.pathway;

  let corrects: CaseEntry | undefined;
  if (input.correctsEntryId) {
    corrects = await correctableEntry(deps.db, record, input.correctsEntryId);
    if (corrects.kind !== input.form) throw new DomainError('invalid_input');
  } else {
    assertFormAllowed(record, input.form);
  }
  const subject = corrects ? {} : await resolveSubject(deps.db, record, input.form, input.subjectId);

  const ctx = validationContext(deps, record);
  const result = validateStep(pathway, pathway.caseForms[input.form], input.raw, ctx, 'complete');
  const reason = corrects ? validateStep(pathway, pathway.caseForms.correction, input.raw, ctx, 'complete') : undefined;
  if (!result.ok || (reason && !reason.ok)) {
    const values = { ...(result.ok ? {} : result.values), ...(reason && !reason.ok ? reason.values : {}) };
    const errors = { ...(result.ok ? {} : result.errors), ...(reason && !reason.ok ? reason.errors : {}) };
    // Keep what was typed in the fields that were fine too.
    for (const [k, v] of Object.entries(input.raw)) if (typeof v === 'string' && values[k] === undefined) values[k] = v.slice(0, 4001);
    return formScreen(deps, record, input.form, { values, errors, ...(input.subjectId ? { subjectId: input.subjectId } : {}), ...(corrects ? { corrects } : {}) });
  }
  const values: StepAnswers = { ...result.values, ...(reason?.ok ? reason.values : {}) };
  const now = deps.now();
  const today = londonDate(now);

  let applied: Notice | undefined;
  const outcome = await deps.db.transaction(async (tx): Promise<Notice> => {
    const audit: NewAuditEntry = { actorAadObjectId: actor.aadObjectId, action: corrects ? 'case.correct' : `case.${input.form}`, entityType: 'case', entityId: c.id };
    if (corrects) {
      const subjectId = corrects.kind === 'intervention' ? (corrects.subjectId ?? corrects.id) : corrects.subjectId;
      const inserted = await insertCorrection(tx, entry(c.id, corrects.kind, values, actor, now, { subjectId, correctsEntryId: corrects.id }));
      if (!inserted) return { key: 'case.conflict.corrected', tone: 'attention' };
    } else {
      const notice = await applyForm(tx, deps, actor, record as CaseRecord & { case: Case }, input.form, values, subject, now, today);
      if (notice.tone === 'attention') return notice;
      // A form whose confirmation names something (the transfer's area) says so itself.
      if (notice.params) applied = notice;
    }
    await casesRepo.touchCase(tx, c.id, now);
    await retentionRepo.setReviewDue(tx, record.referral.id, reviewDateAfterActivity(pathway, today));
    await appendAudit(tx, now, [audit]);
    return applied ?? { key: corrects ? 'case.saved.correction' : `case.saved.${input.form}`, tone: 'good' };
  });
  if ((input.form === 'close' || input.form === 'transfer') && outcome.tone === 'good') deps.messagesQueued();
  const fresh = await loadRecord(deps, actor, reference, 'case.view');
  requireCase(fresh);
  return caseSummaryScreen(deps, actor, fresh, outcome);
}

/** A correction of an entry someone else has just corrected breaks the unique index: report it, change nothing. */
async function insertCorrection(tx: Transaction, e: casesRepo.NewEntry): Promise<boolean> {
  try {
    await tx.transaction(async (sp) => casesRepo.insertEntries(sp, [e]));
    return true;
  } catch (err) {
    if (isUniqueViolation(err)) return false;
    throw err;
  }
}

function isUniqueViolation(err: unknown): boolean {
  let e: unknown = err;
  for (let i = 0; i < 3 && e; i++) {
    if ((e as { code?: unknown }).code === '23505') return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

async function applyForm(
  tx: Transaction,
  deps: AppDeps,
  actor: Actor,
  record: CaseRecord & { case: Case },
  form: CaseForm,
  values: StepAnswers,
  subject: { action?: CaseAction; intervention?: CaseEntry },
  now: Date,
  today: string,
): Promise<Notice> {
  const c = record.case;
  switch (form) {
    case 'consent':
    case 'vulnerability':
    case 'note':
    case 'contact':
      await casesRepo.insertEntries(tx, [entry(c.id, form, values, actor, now)]);
      return ok;
    case 'intervention': {
      const id = randomUUID();
      await casesRepo.insertEntries(tx, [entry(c.id, 'intervention', values, actor, now, { id, subjectId: id })]);
      return ok;
    }
    case 'interventionReview': {
      const root = subject.intervention!.subjectId ?? subject.intervention!.id;
      await casesRepo.insertEntries(tx, [entry(c.id, 'interventionReview', values, actor, now, { subjectId: root })]);
      return ok;
    }
    case 'action': {
      const id = randomUUID();
      await casesRepo.insertActions(tx, [{ id, caseId: c.id, kind: 'officer', title: String(values.title), ownerAadObjectId: String(values.owner), dueOn: String(values.dueOn), createdAt: now }]);
      await casesRepo.insertEntries(tx, [entry(c.id, 'action', values, actor, now, { subjectId: id })]);
      return ok;
    }
    case 'actionComplete': {
      const done = await casesRepo.completeAction(tx, c.id, subject.action!.id, now);
      if (!done) return { key: 'case.conflict.actionNotOpen', tone: 'attention' };
      await casesRepo.insertEntries(tx, [entry(c.id, 'actionComplete', values, actor, now, { subjectId: done.id })]);
      return ok;
    }
    case 'actionReassign': {
      const from = subject.action!.ownerAadObjectId;
      const moved = await casesRepo.reassignAction(tx, c.id, subject.action!.id, String(values.owner));
      if (!moved) return { key: 'case.conflict.actionNotOpen', tone: 'attention' };
      await casesRepo.insertEntries(tx, [entry(c.id, 'actionReassign', { ...values, from }, actor, now, { subjectId: moved.id })]);
      return ok;
    }
    case 'panel':
      await casesRepo.setPanelDecision(tx, c.id, values.decision === 'adopted' ? 'adopted' : 'notAdopted');
      await statisticsRepo.setChannelAdopted(tx, record.referral.id, isAdoptedDecision(record.pathway, values));
      await casesRepo.insertEntries(tx, [entry(c.id, 'panel', values, actor, now)]);
      return ok;
    case 'transfer':
      return requestTransfer(tx, deps, actor, record, values, now, today);
    case 'close': {
      const closed = await casesRepo.closeCase(tx, c.id, now);
      if (!closed) return { key: 'case.conflict.closed', tone: 'attention' };
      await casesRepo.insertEntries(tx, [entry(c.id, 'closed', values, actor, now)]);
      if (c.kind === 'channel') {
        // Channel cases are reviewed 6 and 12 months after closure (DESIGN §3).
        await casesRepo.insertActions(
          tx,
          record.pathway.channelReviewMonths.map((months) => ({
            id: randomUUID(),
            caseId: c.id,
            kind: 'system' as const,
            title: `action.channelReview.${months}`,
            // A case closed from the area queue: whoever closed it owns the reviews.
            ownerAadObjectId: c.ownerAadObjectId ?? actor.aadObjectId,
            dueOn: addCalendarMonths(today, months),
            createdAt: now,
          })),
        );
      }
      await casesRepo.setReferralStatus(tx, record.referral.id, 'closed');
      await tellReferrer(tx, record.referral, 'closed', now);
      return ok;
    }
  }
}

const ok: Notice = { key: 'ok', tone: 'good' };

// ---------------------------------------------------------------------------
// Chronology

/** Every event, newest first, a page at a time. Audited as a view of the case. */
export async function chronology(deps: AppDeps, actor: Actor, reference: string, page: number): Promise<CaseScreen> {
  const record = await loadRecord(deps, actor, reference, 'case.chronology');
  requireCase(record);
  const p = Math.max(0, Math.min(10_000, Math.floor(page)));
  const { entries, total } = await casesRepo.listEntriesPage(deps.db, record.case.id, p * CHRONOLOGY_PAGE, CHRONOLOGY_PAGE);
  const corrected = await casesRepo.correctedAmong(deps.db, entries.map((e) => e.id));
  const targets = await casesRepo.entryTimes(
    deps.db,
    record.case.id,
    entries.map((e) => e.correctsEntryId).filter((id): id is string => id !== null),
  );
  await appendAudit(deps.db, deps.now(), [{ actorAadObjectId: actor.aadObjectId, action: 'case.chronology', entityType: 'case', entityId: record.case.id }]);
  return { kind: 'chronology', record, entries, corrected, correctedAt: targets, page: p, pages: Math.max(1, Math.ceil(total / CHRONOLOGY_PAGE)) };
}
