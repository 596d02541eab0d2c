/**
 * Transfers between areas and risk-based access requests (DESIGN §5, §6),
 * decided inline by supervisors on approval cards.
 *
 * Every function checks, itself, who the actor is and what they may do,
 * whatever the card said: the card's ids are only a pointer. A decision is
 * one conditional update (`where status = 'pending'`), so exactly one of
 * several approvers pressing at once is recorded and acted on; the others,
 * and anyone pressing a stale card, are shown the current state and nothing
 * changes. After a decision every delivered copy of the approval card is
 * queued for an in-place update. Every step is audited.
 */
import { randomUUID } from 'node:crypto';
import type { AppDeps } from './context.js';
import type { Actor } from '../domain/directory.js';
import { DomainError } from '../domain/errors.js';
import { trainedCaseWorkers, isCaseWorker, isTrained } from '../domain/permissions.js';
import { londonDate } from '../domain/time.js';
import { addWorkingDays } from '../domain/working-days.js';
import {
  EXPIRY_WARNING_MS,
  accessRequesterRole,
  decisionRefusal,
  grantActive,
  grantExpiresAt,
  isRefusedPurpose,
  personKey,
  type AccessScope,
  type DecisionRefusal,
} from '../domain/approvals.js';
import { QUEUE_OWNER, personAge, validateStep, type FieldError, type StepAnswers } from '../domain/forms.js';
import type { CaseEntry } from '../domain/case.js';
import { parseReference } from '../domain/referral.js';
import { accessDecisionForm, accessFindForm, accessRequestForm, transferDecisionForm } from '../forms/approvals.js';
import { pathways, preventPathway } from '../forms/prevent.js';
import { appendAudit, type NewAuditEntry } from '../db/repositories/audit.js';
import * as approvalsRepo from '../db/repositories/approvals.js';
import type { AccessRequest, PendingAccessItem, PendingTransferItem, Transfer } from '../db/repositories/approvals.js';
import * as casesRepo from '../db/repositories/cases.js';
import type { Case, CaseAction, Triage } from '../db/repositories/cases.js';
import * as referralsRepo from '../db/repositories/referrals.js';
import type { Referral } from '../db/repositories/referrals.js';
import { enqueueMessages, type OutboxMessage } from '../db/repositories/outbox.js';
import type { DatabaseOrTransaction, Transaction } from '../db/client.js';
import { entry, type CaseRecord, type Notice } from './cases.js';

/** A transfer waits this many working days before the sending area's supervisors hear of it. */
export const DEFAULT_TRANSFER_ESCALATION_WORKING_DAYS = 5;
const LIST_LIMIT = 25;

/** Whose eyes a card is for: the one who may decide, the one who asked, or anyone else. */
export type CardRole = 'decider' | 'requester' | 'other';

/** What a transfer's approval card shows: only what the receiving supervisors need to decide. */
export interface TransferView {
  readonly transfer: Transfer;
  readonly reference: string;
  readonly personName: string;
  readonly personAge: number | undefined;
  readonly caseKind: Case['kind'];
  readonly openActions: number;
}

export interface AccessView {
  readonly request: AccessRequest;
  readonly reference: string;
  /** Granted and not yet ended, by the service's clock. */
  readonly active: boolean;
}

export type ApprovalScreen =
  | {
      readonly kind: 'transfer';
      readonly view: TransferView;
      readonly role: CardRole;
      /** For the decider: who may take the case (trained officers of the receiving area). */
      readonly newOwners: readonly string[];
      readonly values?: Record<string, string>;
      readonly errors?: Record<string, FieldError>;
      readonly notice?: Notice;
    }
  | {
      readonly kind: 'access';
      readonly view: AccessView;
      readonly role: CardRole;
      readonly values?: Record<string, string>;
      readonly errors?: Record<string, FieldError>;
      readonly notice?: Notice;
    }
  | {
      readonly kind: 'approvals';
      readonly transfersIn: readonly PendingTransferItem[];
      readonly accessIn: readonly PendingAccessItem[];
      readonly myTransfers: readonly PendingTransferItem[];
      readonly myAccess: ReadonlyArray<PendingAccessItem & { status: AccessRequest['status']; expiresAt: Date | null }>;
    }
  | { readonly kind: 'accessFind'; readonly values: Record<string, string>; readonly errors: Record<string, FieldError>; readonly notice?: Notice }
  | {
      readonly kind: 'accessForm';
      readonly referralId: string;
      /** Shown when the requester typed it; a search by name shows only that a record matches. */
      readonly reference?: string;
      readonly values: Record<string, string>;
      readonly errors: Record<string, FieldError>;
    }
  | { readonly kind: 'accessRefused'; readonly purpose: string }
  | { readonly kind: 'ownArea'; readonly reference: string }
  | { readonly kind: 'grant'; readonly grant: AccessRequest; readonly record: GrantRecord };

/** What a grant lets its holder read, cut to the scopes asked for. */
export interface GrantRecord {
  readonly referral: Referral;
  readonly triage: Triage | undefined;
  readonly case: Case | undefined;
  /** Only the entries the grant covers (vulnerability assessments, consent and contacts, or all). */
  readonly entries: readonly CaseEntry[];
  readonly openActions: readonly CaseAction[];
  readonly scopes: readonly AccessScope[];
}

const deciderAudit = (actor: Actor, action: string, entityType: string, entityId: string, purpose?: string): NewAuditEntry => ({
  actorAadObjectId: actor.aadObjectId,
  action,
  entityType,
  entityId,
  ...(purpose ? { purpose } : {}),
});

// ---------------------------------------------------------------------------
// Transfers

/**
 * Raises a transfer from the case form (called inside the case form's
 * transaction by src/app/cases.ts). The receiving area's supervisors get an
 * approval card; the chronology records the request.
 */
export async function requestTransfer(
  tx: Transaction,
  deps: AppDeps,
  actor: Actor,
  record: CaseRecord & { case: Case },
  values: StepAnswers,
  now: Date,
  today: string,
): Promise<Notice> {
  const toAreaId = String(values.toArea);
  const approvers = trainedCaseWorkers(deps.directory, toAreaId, today, { supervisorsOnly: true }).filter((s) => s !== actor.aadObjectId);
  const toArea = deps.directory.area(toAreaId)?.name ?? toAreaId;
  if (approvers.length === 0) return { key: 'transfer.noSupervisor', params: { area: toArea }, tone: 'attention' };
  const transfer = await approvalsRepo.insertTransfer(tx, {
    id: randomUUID(),
    caseId: record.case.id,
    fromAreaId: record.case.areaId,
    toAreaId,
    requestedByAadObjectId: actor.aadObjectId,
    reason: String(values.reason),
    newAddress: String(values.newAddress),
    requestedAt: now,
    escalateAfter: addWorkingDays(today, deps.transferEscalationWorkingDays ?? DEFAULT_TRANSFER_ESCALATION_WORKING_DAYS),
  });
  if (!transfer) return { key: 'transfer.conflict.pending', tone: 'attention' };
  await casesRepo.insertEntries(tx, [entry(record.case.id, 'transfer', values, actor, now, { subjectId: transfer.id })]);
  await enqueueMessages(
    tx,
    approvers.map((s) => approvalMessage('transfer.request', transfer.id, s, { transferId: transfer.id, reference: record.referral.reference })),
    now,
  );
  await appendAudit(tx, now, [deciderAudit(actor, 'transfer.request', 'transfer', transfer.id)]);
  return { key: 'case.saved.transfer', params: { area: toArea }, tone: 'good' };
}

export function approvalMessage(kind: 'transfer.request' | 'access.request' | 'deletion.request', subjectId: string, recipient: string, payload: Record<string, unknown>): OutboxMessage {
  return { key: `${kind}:${subjectId}:${recipient}`, kind, recipientAadObjectId: recipient, payload, subjectId };
}

async function transferView(db: DatabaseOrTransaction, transfer: Transfer, today: string): Promise<TransferView> {
  const c = await casesRepo.findCaseById(db, transfer.caseId);
  if (!c) throw new DomainError('not_found');
  const referral = await referralsRepo.findReferralById(db, c.referralId);
  if (!referral) throw new DomainError('not_found');
  const pathway = pathways[referral.pathway] ?? preventPathway;
  const names = referral.answers[pathway.personNameFields.step] ?? {};
  const open = await casesRepo.listOpenActions(db, c.id);
  return {
    transfer,
    reference: referral.reference,
    personName: [names[pathway.personNameFields.first], names[pathway.personNameFields.last]].filter((x) => typeof x === 'string' && x).join(' '),
    personAge: personAge(pathway, referral.answers, today),
    caseKind: c.kind,
    openActions: open.length,
  };
}

function transferRole(actor: Actor, t: Transfer, today: string): CardRole {
  if (actor.aadObjectId === t.requestedByAadObjectId) return 'requester';
  return decisionRefusal(actor, t.toAreaId, t.requestedByAadObjectId, today) === undefined ? 'decider' : 'other';
}

/**
 * The transfer's card as this actor should see it (refresh, the `approvals`
 * list, a stale press). The decider's and requester's views are audited as
 * views of the case; anyone else sees the state only.
 */
export async function transferCard(deps: AppDeps, actor: Actor, transferId: string, notice?: Notice, o: { wasSentIt?: boolean } = {}): Promise<ApprovalScreen> {
  const today = londonDate(deps.now());
  const transfer = await approvalsRepo.findTransfer(deps.db, transferId);
  if (!transfer) throw new DomainError('not_found');
  const role = transferRole(actor, transfer, today);
  // Anyone else sees the state only, and only if they work in one of the two areas.
  if (role === 'other' && !o.wasSentIt && !(isCaseWorker(actor) && (actor.areas.includes(transfer.fromAreaId) || actor.areas.includes(transfer.toAreaId)))) {
    await appendAudit(deps.db, deps.now(), [deciderAudit(actor, 'transfer.view_denied', 'transfer', transfer.id)]);
    throw new DomainError('forbidden');
  }
  const view = await transferView(deps.db, transfer, today);
  if (role !== 'other') await appendAudit(deps.db, deps.now(), [deciderAudit(actor, 'transfer.view', 'transfer', transfer.id)]);
  return { kind: 'transfer', view, role, newOwners: trainedCaseWorkers(deps.directory, transfer.toAreaId, today), ...(notice ? { notice } : {}) };
}

export async function refuseDecision(deps: AppDeps, actor: Actor, subject: 'transfer' | 'access' | 'deletion', id: string, why: DecisionRefusal): Promise<never> {
  await appendAudit(deps.db, deps.now(), [deciderAudit(actor, `${subject}.decide_denied`, subject, id)]);
  if (why === 'trainingExpired') throw new DomainError('training_expired');
  if (why === 'ownRequest') throw new DomainError('own_request');
  throw new DomainError('forbidden');
}

/** Accept (with the new owner, or the area's queue) or decline (with a reason) a transfer. */
export async function decideTransfer(
  deps: AppDeps,
  actor: Actor,
  transferId: string,
  decision: 'accept' | 'decline',
  raw: Record<string, unknown>,
): Promise<ApprovalScreen> {
  const now = deps.now();
  const today = londonDate(now);
  const transfer = await approvalsRepo.findTransfer(deps.db, transferId);
  if (!transfer) throw new DomainError('not_found');
  const why = decisionRefusal(actor, transfer.toAreaId, transfer.requestedByAadObjectId, today);
  if (why) return refuseDecision(deps, actor, 'transfer', transfer.id, why);
  if (transfer.status !== 'pending') return transferCard(deps, actor, transfer.id, staleNotice(deps, transfer));

  const newOwners = trainedCaseWorkers(deps.directory, transfer.toAreaId, today);
  const checked = validateStep(
    preventPathway,
    transferDecisionForm,
    raw,
    { today, answers: {}, dynamicChoices: { areas: [], newOwners } },
    'complete',
  );
  const errors: Record<string, FieldError> = checked.ok ? {} : { ...checked.errors };
  const values = checked.ok ? checked.values : {};
  if (decision === 'accept' && !values.newOwner && !errors.newOwner) errors.newOwner = { key: 'error.field.required' };
  if (decision === 'decline' && !values.note && !errors.note) errors.note = { key: 'error.transfer.declineReason' };
  if (Object.keys(errors).length > 0) {
    const screen = await transferCard(deps, actor, transfer.id);
    return { ...screen, values: rawStrings(raw, ['newOwner', 'note']), errors } as ApprovalScreen;
  }
  const note = typeof values.note === 'string' && values.note ? values.note : null;
  const owner = decision === 'accept' && values.newOwner !== QUEUE_OWNER ? String(values.newOwner) : null;

  const won = await deps.db.transaction(async (tx) => {
    const decided = await approvalsRepo.decideTransfer(tx, transfer.id, {
      status: decision === 'accept' ? 'accepted' : 'declined',
      by: actor.aadObjectId,
      at: now,
      note,
      newOwner: owner,
    });
    if (!decided) return false;
    const c = await casesRepo.findCaseById(tx, decided.caseId);
    if (!c) throw new DomainError('not_found');
    const referral = await referralsRepo.findReferralById(tx, c.referralId);
    const reference = referral?.reference ?? '';
    const told = new Set<string>([decided.requestedByAadObjectId]);
    if (c.ownerAadObjectId) told.add(c.ownerAadObjectId);
    if (decision === 'accept') {
      const waiting = await approvalsRepo.pendingAccessFor(tx, c.referralId);
      await approvalsRepo.moveCase(tx, { caseId: c.id, referralId: c.referralId, toAreaId: decided.toAreaId, owner, actionsTo: owner ?? actor.aadObjectId, now });
      // Access requests waiting for the old area's supervisors now wait for the new area's: their
      // cards are updated (the old supervisors can no longer decide) and the new ones are asked.
      for (const a of waiting) {
        await queueCardUpdates(tx, a.id, ['access.request'], `moved-${decided.id}`, now);
        const approvers = trainedCaseWorkers(deps.directory, decided.toAreaId, today, { supervisorsOnly: true }).filter((s) => s !== a.requesterAadObjectId);
        await enqueueMessages(tx, approvers.map((s) => approvalMessage('access.request', a.id, s, { requestId: a.id })), now);
      }
      await casesRepo.insertEntries(tx, [
        entry(c.id, 'transferAccepted', { fromArea: decided.fromAreaId, toArea: decided.toAreaId, newOwner: owner ?? QUEUE_OWNER, ...(note ? { note } : {}) }, actor, now, { subjectId: decided.id }),
      ]);
      // The receiving side: the new owner, or (for the queue) the area's officers.
      for (const p of owner ? [owner] : trainedCaseWorkers(deps.directory, decided.toAreaId, today)) told.add(p);
    } else {
      await casesRepo.insertEntries(tx, [entry(c.id, 'transferDeclined', { note: note ?? '' }, actor, now, { subjectId: decided.id })]);
    }
    told.delete(actor.aadObjectId);
    await enqueueMessages(
      tx,
      [...told].map((p) => ({
        key: `transfer.decided:${decided.id}:${p}`,
        kind: 'transfer.decided',
        recipientAadObjectId: p,
        payload: { transferId: decided.id, reference, status: decided.status, fromAreaId: decided.fromAreaId, toAreaId: decided.toAreaId },
      })),
      now,
    );
    await queueCardUpdates(tx, decided.id, ['transfer.request'], decided.status, now);
    await appendAudit(tx, now, [
      deciderAudit(actor, `transfer.${decision}`, 'transfer', decided.id),
      ...(decision === 'accept' ? [deciderAudit(actor, 'case.moved', 'case', c.id)] : []),
    ]);
    return true;
  });
  if (won) deps.messagesQueued();
  const after = await approvalsRepo.findTransfer(deps.db, transfer.id);
  const notice: Notice = won ? { key: `transfer.done.${decision}`, tone: 'good' } : staleNotice(deps, after!);
  return transferCard(deps, actor, transfer.id, notice);
}

/** The requester takes back a pending transfer. */
export async function withdrawTransfer(deps: AppDeps, actor: Actor, transferId: string): Promise<ApprovalScreen> {
  const now = deps.now();
  const transfer = await approvalsRepo.findTransfer(deps.db, transferId);
  if (!transfer) throw new DomainError('not_found');
  if (transfer.requestedByAadObjectId !== actor.aadObjectId) {
    await appendAudit(deps.db, now, [deciderAudit(actor, 'transfer.withdraw_denied', 'transfer', transfer.id)]);
    throw new DomainError('forbidden');
  }
  const won = await deps.db.transaction(async (tx) => {
    const done = await approvalsRepo.decideTransfer(tx, transfer.id, { status: 'withdrawn', by: actor.aadObjectId, at: now, note: null, newOwner: null });
    if (!done) return false;
    await casesRepo.insertEntries(tx, [entry(done.caseId, 'transferWithdrawn', {}, actor, now, { subjectId: done.id })]);
    await queueCardUpdates(tx, done.id, ['transfer.request'], 'withdrawn', now);
    await appendAudit(tx, now, [deciderAudit(actor, 'transfer.withdraw', 'transfer', done.id)]);
    return true;
  });
  if (won) deps.messagesQueued();
  const after = await approvalsRepo.findTransfer(deps.db, transfer.id);
  return transferCard(deps, actor, transfer.id, won ? { key: 'transfer.done.withdraw', tone: 'good' } : staleNotice(deps, after!));
}

/** An officer of the area takes a transferred case from the area's queue. */
export async function takeCase(deps: AppDeps, actor: Actor, record: CaseRecord & { case: Case }): Promise<Notice> {
  const now = deps.now();
  return deps.db.transaction(async (tx) => {
    const taken = await approvalsRepo.takeCase(tx, record.case.id, actor.aadObjectId, now);
    if (!taken) return { key: 'case.conflict.taken', tone: 'attention' } as Notice;
    await casesRepo.insertEntries(tx, [entry(record.case.id, 'taken', {}, actor, now)]);
    await appendAudit(tx, now, [deciderAudit(actor, 'case.take', 'case', record.case.id)]);
    return { key: 'case.saved.taken', tone: 'good' } as Notice;
  });
}

export function staleNotice(deps: AppDeps, s: { status: string; decidedByAadObjectId: string | null; decidedAt: Date | null }): Notice {
  const name = s.decidedByAadObjectId ? (deps.directory.person(s.decidedByAadObjectId)?.name ?? s.decidedByAadObjectId) : '';
  return { key: `approval.stale.${s.status}`, params: { name, at: (s.decidedAt ?? new Date(0)).toISOString() }, tone: 'attention' };
}

export function rawStrings(raw: Record<string, unknown>, ids: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const id of ids) if (typeof raw[id] === 'string') out[id] = String(raw[id]).slice(0, 2000);
  return out;
}

/**
 * Queues an in-place update of every delivered copy of a subject's approval
 * card (the original messages, not only the clicker's copy). The update is
 * rendered from the state at delivery, so it always shows the latest.
 */
export async function queueCardUpdates(tx: Transaction, subjectId: string, kinds: readonly string[], state: string, now: Date): Promise<void> {
  const cards = await approvalsRepo.approvalCardsAbout(tx, subjectId, kinds);
  await enqueueMessages(
    tx,
    cards.map((c) => ({
      key: `approval.update:${c.id}:${state}`,
      kind: 'approval.update',
      recipientAadObjectId: c.recipientAadObjectId,
      payload: { originalId: c.id },
    })),
    now,
  );
}

// ---------------------------------------------------------------------------
// Access requests

async function assertMayRequestAccess(deps: AppDeps, actor: Actor, action: string): Promise<'officer' | 'partner'> {
  const role = accessRequesterRole(actor, londonDate(deps.now()));
  if (role) return role;
  await appendAudit(deps.db, deps.now(), [deciderAudit(actor, `${action}_denied`, 'access', actor.aadObjectId)]);
  throw new DomainError(isCaseWorker(actor) ? 'training_expired' : 'forbidden');
}

/** `access`: the form to find a record, by reference or by last name and date of birth. */
export async function startAccessRequest(deps: AppDeps, actor: Actor): Promise<ApprovalScreen> {
  await assertMayRequestAccess(deps, actor, 'access.start');
  return { kind: 'accessFind', values: {}, errors: {} };
}

/**
 * Looks a record up. The answer is never the record: a match gives the
 * request form, no match says so. Either way the search is audited (what it
 * found, by id; never the name searched for).
 */
export async function findRecordForAccess(deps: AppDeps, actor: Actor, raw: Record<string, unknown>): Promise<ApprovalScreen> {
  await assertMayRequestAccess(deps, actor, 'access.search');
  const now = deps.now();
  const today = londonDate(now);
  const checked = validateStep(preventPathway, accessFindForm, raw, { today, answers: {}, dynamicChoices: { areas: [] } }, 'complete');
  const values = rawStrings(raw, ['reference', 'lastName', 'dateOfBirth']);
  if (!checked.ok) return { kind: 'accessFind', values, errors: checked.errors };
  const v = checked.values;
  let found: Array<{ id: string; reference: string; areaId: string }> = [];
  let byReference: string | undefined;
  if (typeof v.reference === 'string' && v.reference) {
    const ref = parseReference(v.reference.toUpperCase());
    if (!ref) return { kind: 'accessFind', values, errors: { reference: { key: 'error.access.reference' } } };
    byReference = ref;
    const r = await referralsRepo.findReferralByReference(deps.db, ref);
    if (r) found = [{ id: r.id, reference: r.reference, areaId: (await casesRepo.findCaseByReferral(deps.db, r.id))?.areaId ?? r.areaId }];
  } else {
    const key = personKey(v.lastName, v.dateOfBirth);
    if (!key) return { kind: 'accessFind', values, errors: { dateOfBirth: { key: 'error.access.dateOfBirth' } } };
    const rows = await approvalsRepo.findReferralsByPersonKey(deps.db, key, 5);
    found = await Promise.all(rows.map(async (r) => ({ ...r, areaId: (await casesRepo.findCaseByReferral(deps.db, r.id))?.areaId ?? r.areaId })));
  }
  await appendAudit(
    deps.db,
    now,
    found.length > 0
      ? found.map((f) => deciderAudit(actor, byReference ? 'record.lookup' : 'record.search', 'referral', f.id))
      : [deciderAudit(actor, byReference ? 'record.lookup_none' : 'record.search_none', 'search', actor.aadObjectId)],
  );
  if (found.length === 0) return { kind: 'accessFind', values, errors: {}, notice: { key: 'access.search.none', tone: 'attention' } };
  // The most recent match: one person, one request; several referrals about them go to the same supervisors.
  const match = found[0]!;
  if (isCaseWorker(actor) && actor.areas.includes(match.areaId) && isTrained(actor, today)) return { kind: 'ownArea', reference: match.reference };
  return { kind: 'accessForm', referralId: match.id, ...(byReference ? { reference: byReference } : {}), values: {}, errors: {} };
}

/**
 * Sends an access request to the owning area's supervisors, or refuses it at
 * once when its purpose is employment, education or vetting (the refusal is
 * kept and audited; nobody else is told).
 */
export async function submitAccessRequest(deps: AppDeps, actor: Actor, referralId: string, raw: Record<string, unknown>): Promise<ApprovalScreen> {
  const role = await assertMayRequestAccess(deps, actor, 'access.request');
  const now = deps.now();
  const today = londonDate(now);
  const referral = await referralsRepo.findReferralById(deps.db, referralId);
  if (!referral) throw new DomainError('not_found');
  const areaId = (await casesRepo.findCaseByReferral(deps.db, referral.id))?.areaId ?? referral.areaId;
  const values = rawStrings(raw, ['purpose', 'purposeDetail', 'justification', 'scopes', 'days']);
  const form = (errors: Record<string, FieldError>): ApprovalScreen => ({ kind: 'accessForm', referralId, values, errors });

  // Refused before anything else is checked: no justification makes these purposes acceptable.
  if (typeof raw.purpose === 'string' && isRefusedPurpose(raw.purpose)) {
    const refused = await approvalsRepo.insertAccessRequest(deps.db, {
      id: randomUUID(),
      referralId: referral.id,
      areaId,
      requesterAadObjectId: actor.aadObjectId,
      requesterRole: role,
      purpose: raw.purpose,
      justification: '',
      scopes: [],
      days: 1,
      status: 'refused',
      requestedAt: now,
      decidedAt: now,
    });
    await appendAudit(deps.db, now, [deciderAudit(actor, 'access.refused', 'access', refused.id, raw.purpose)]);
    return { kind: 'accessRefused', purpose: raw.purpose };
  }
  const checked = validateStep(preventPathway, accessRequestForm, raw, { today, answers: {}, dynamicChoices: { areas: [] } }, 'complete');
  if (!checked.ok) return form(checked.errors);
  const v = checked.values;
  if (isCaseWorker(actor) && actor.areas.includes(areaId)) return { kind: 'ownArea', reference: referral.reference };
  const approvers = trainedCaseWorkers(deps.directory, areaId, today, { supervisorsOnly: true }).filter((s) => s !== actor.aadObjectId);
  if (approvers.length === 0) return { kind: 'accessFind', values: {}, errors: {}, notice: { key: 'access.noSupervisor', tone: 'attention' } };

  const request = await deps.db.transaction(async (tx) => {
    const pending = await approvalsRepo.findPendingAccess(tx, actor.aadObjectId, referral.id);
    if (pending) return { existing: pending };
    const created = await approvalsRepo.insertAccessRequest(tx, {
      id: randomUUID(),
      referralId: referral.id,
      areaId,
      requesterAadObjectId: actor.aadObjectId,
      requesterRole: role,
      purpose: String(v.purpose),
      purposeDetail: typeof v.purposeDetail === 'string' && v.purposeDetail ? v.purposeDetail : null,
      justification: String(v.justification),
      scopes: v.scopes as string[],
      days: Number(v.days),
      requestedAt: now,
    });
    await enqueueMessages(
      tx,
      approvers.map((s) => approvalMessage('access.request', created.id, s, { requestId: created.id })),
      now,
    );
    await appendAudit(tx, now, [deciderAudit(actor, 'access.request', 'access', created.id, created.purpose)]);
    return { created };
  });
  if ('created' in request) deps.messagesQueued();
  const id = 'created' in request ? request.created!.id : request.existing.id;
  return accessCard(deps, actor, id, 'created' in request ? { key: 'access.sent', tone: 'good' } : { key: 'access.alreadyPending', tone: 'attention' });
}

function accessRole(actor: Actor, a: AccessRequest, today: string): CardRole {
  if (actor.aadObjectId === a.requesterAadObjectId) return 'requester';
  return decisionRefusal(actor, a.areaId, a.requesterAadObjectId, today) === undefined ? 'decider' : 'other';
}

/** The access request's card as this actor should see it. */
export async function accessCard(deps: AppDeps, actor: Actor, requestId: string, notice?: Notice, o: { wasSentIt?: boolean } = {}): Promise<ApprovalScreen> {
  const today = londonDate(deps.now());
  const request = await approvalsRepo.findAccessRequest(deps.db, requestId);
  if (!request) throw new DomainError('not_found');
  const role = accessRole(actor, request, today);
  if (role === 'other' && !o.wasSentIt && !(isCaseWorker(actor) && actor.areas.includes(request.areaId))) {
    await appendAudit(deps.db, deps.now(), [deciderAudit(actor, 'access.view_denied', 'access', request.id)]);
    throw new DomainError('forbidden');
  }
  const referral = await referralsRepo.findReferralById(deps.db, request.referralId);
  if (!referral) throw new DomainError('not_found');
  if (role === 'decider') await appendAudit(deps.db, deps.now(), [deciderAudit(actor, 'access.view', 'access', request.id)]);
  // The requester learns the reference only once access is granted (they may have searched by name).
  const reference = role === 'decider' || request.status === 'granted' ? referral.reference : '';
  return { kind: 'access', view: { request, reference, active: grantActive(request, deps.now()) }, role, ...(notice ? { notice } : {}) };
}

/** Grant or decline an access request. A grant runs for the days asked, from now. */
export async function decideAccess(deps: AppDeps, actor: Actor, requestId: string, decision: 'grant' | 'decline', raw: Record<string, unknown>): Promise<ApprovalScreen> {
  const now = deps.now();
  const today = londonDate(now);
  const request = await approvalsRepo.findAccessRequest(deps.db, requestId);
  if (!request) throw new DomainError('not_found');
  const why = decisionRefusal(actor, request.areaId, request.requesterAadObjectId, today);
  if (why) return refuseDecision(deps, actor, 'access', request.id, why);
  if (request.status !== 'pending') return accessCard(deps, actor, request.id, staleNotice(deps, request));
  const checked = validateStep(preventPathway, accessDecisionForm, raw, { today, answers: {}, dynamicChoices: { areas: [] } }, 'complete');
  const errors: Record<string, FieldError> = checked.ok ? {} : { ...checked.errors };
  const note = checked.ok && typeof checked.values.note === 'string' && checked.values.note ? checked.values.note : null;
  if (decision === 'decline' && !note && !errors.note) errors.note = { key: 'error.access.declineReason' };
  if (Object.keys(errors).length > 0) {
    const screen = await accessCard(deps, actor, request.id);
    return { ...screen, values: rawStrings(raw, ['note']), errors } as ApprovalScreen;
  }
  const won = await deps.db.transaction(async (tx) => {
    const decided = await approvalsRepo.decideAccessRequest(tx, request.id, {
      status: decision === 'grant' ? 'granted' : 'declined',
      by: actor.aadObjectId,
      at: now,
      note,
      expiresAt: decision === 'grant' ? grantExpiresAt(now, request.days) : null,
    });
    if (!decided) return false;
    await enqueueMessages(
      tx,
      [
        {
          key: `access.decided:${decided.id}:${decided.requesterAadObjectId}`,
          kind: 'access.decided',
          recipientAadObjectId: decided.requesterAadObjectId,
          payload: { requestId: decided.id },
        },
      ],
      now,
    );
    await queueCardUpdates(tx, decided.id, ['access.request'], decided.status, now);
    await appendAudit(tx, now, [deciderAudit(actor, `access.${decision}`, 'access', decided.id, decided.purpose)]);
    return true;
  });
  if (won) deps.messagesQueued();
  const after = await approvalsRepo.findAccessRequest(deps.db, request.id);
  return accessCard(deps, actor, request.id, won ? { key: `access.done.${decision}`, tone: 'good' } : staleNotice(deps, after!));
}

/** The requester takes back a pending access request. */
export async function withdrawAccess(deps: AppDeps, actor: Actor, requestId: string): Promise<ApprovalScreen> {
  const now = deps.now();
  const request = await approvalsRepo.findAccessRequest(deps.db, requestId);
  if (!request) throw new DomainError('not_found');
  if (request.requesterAadObjectId !== actor.aadObjectId) {
    await appendAudit(deps.db, now, [deciderAudit(actor, 'access.withdraw_denied', 'access', request.id)]);
    throw new DomainError('forbidden');
  }
  const won = await deps.db.transaction(async (tx) => {
    const done = await approvalsRepo.decideAccessRequest(tx, request.id, { status: 'withdrawn', by: actor.aadObjectId, at: now, note: null, expiresAt: null });
    if (!done) return false;
    await queueCardUpdates(tx, done.id, ['access.request'], 'withdrawn', now);
    await appendAudit(tx, now, [deciderAudit(actor, 'access.withdraw', 'access', done.id)]);
    return true;
  });
  if (won) deps.messagesQueued();
  const after = await approvalsRepo.findAccessRequest(deps.db, request.id);
  return accessCard(deps, actor, request.id, won ? { key: 'access.done.withdraw', tone: 'good' } : staleNotice(deps, after!));
}

/**
 * The record under a grant: read-only, only the parts asked for, only while
 * the grant runs, only for its holder. Every view is audited with the
 * grant's purpose.
 */
export async function viewUnderGrant(deps: AppDeps, actor: Actor, requestId: string): Promise<ApprovalScreen> {
  const now = deps.now();
  const grant = await approvalsRepo.findAccessRequest(deps.db, requestId);
  if (!grant || grant.requesterAadObjectId !== actor.aadObjectId) {
    await appendAudit(deps.db, now, [deciderAudit(actor, 'record.grant_view_denied', 'access', requestId)]);
    throw new DomainError('forbidden');
  }
  if (!grantActive(grant, now)) {
    await appendAudit(deps.db, now, [deciderAudit(actor, 'record.grant_view_denied', 'access', grant.id)]);
    return accessCard(deps, actor, grant.id, { key: grant.status === 'granted' ? 'access.expired' : 'access.notGranted', tone: 'attention' });
  }
  return grantScreen(deps, actor, grant);
}

/** `case <REF>` by someone outside the area: the record under their grant, if one runs. */
export async function openUnderGrant(deps: AppDeps, actor: Actor, reference: string): Promise<ApprovalScreen | undefined> {
  const referral = await referralsRepo.findReferralByReference(deps.db, reference);
  if (!referral) return undefined;
  const grant = await approvalsRepo.findActiveGrant(deps.db, actor.aadObjectId, referral.id, deps.now());
  return grant ? grantScreen(deps, actor, grant) : undefined;
}

async function grantScreen(deps: AppDeps, actor: Actor, grant: AccessRequest): Promise<ApprovalScreen> {
  const referral = await referralsRepo.findReferralById(deps.db, grant.referralId);
  if (!referral) throw new DomainError('not_found');
  const [triage, theCase] = await Promise.all([casesRepo.findTriage(deps.db, referral.id), casesRepo.findCaseByReferral(deps.db, referral.id)]);
  const scopes = grant.scopes as AccessScope[];
  const all = theCase ? await casesRepo.listEntries(deps.db, theCase.id) : [];
  const full = scopes.includes('full');
  const entries = all.filter(
    (e) =>
      full ||
      (scopes.includes('vulnerabilities') && e.kind === 'vulnerability') ||
      (scopes.includes('contacts') && (e.kind === 'contact' || e.kind === 'consent')),
  );
  const openActions = full && theCase ? await casesRepo.listOpenActions(deps.db, theCase.id) : [];
  await appendAudit(deps.db, deps.now(), [deciderAudit(actor, 'record.view_under_grant', 'referral', referral.id, `${grant.purpose} (grant ${grant.id})`)]);
  return { kind: 'grant', grant, record: { referral, triage, case: theCase, entries, openActions, scopes } };
}

// ---------------------------------------------------------------------------
// The approvals list, and cards for notifications

/** `approvals`: what waits for my decision, and my own requests. */
export async function listApprovals(deps: AppDeps, actor: Actor): Promise<ApprovalScreen> {
  const today = londonDate(deps.now());
  if (!accessRequesterRole(actor, today)) {
    await appendAudit(deps.db, deps.now(), [deciderAudit(actor, 'approvals.view_denied', 'approvals', actor.aadObjectId)]);
    throw new DomainError(isCaseWorker(actor) ? 'training_expired' : 'forbidden');
  }
  const supervised = actor.roles.includes('supervisor') && isTrained(actor, today) ? actor.areas : [];
  const [transfersIn, accessIn, myTransfers, myAccess] = await Promise.all([
    approvalsRepo.listPendingTransfersInto(deps.db, supervised, LIST_LIMIT),
    approvalsRepo.listPendingAccessFor(deps.db, supervised, LIST_LIMIT),
    approvalsRepo.listPendingTransfersBy(deps.db, actor.aadObjectId, LIST_LIMIT),
    approvalsRepo.listAccessBy(deps.db, actor.aadObjectId, deps.now(), LIST_LIMIT),
  ]);
  await appendAudit(deps.db, deps.now(), [deciderAudit(actor, 'approvals.view', 'approvals', actor.aadObjectId)]);
  return {
    kind: 'approvals',
    // Separation of duties: my own requests are never in my list to decide.
    transfersIn: transfersIn.filter((t) => t.requestedByAadObjectId !== actor.aadObjectId),
    accessIn: accessIn.filter((a) => a.requesterAadObjectId !== actor.aadObjectId),
    myTransfers,
    myAccess,
  };
}

/**
 * The approval card a notification carries, rendered for its recipient from
 * the state at delivery. Someone who was sent the card but can no longer act
 * on it (the request moved to another area) still gets their copy brought up
 * to date, in its state-only form.
 */
export async function approvalCardFor(deps: AppDeps, kind: string, payload: Record<string, unknown>, recipient: string): Promise<ApprovalScreen | undefined> {
  const actor = deps.directory.actor(recipient, '');
  const id = typeof payload.transferId === 'string' ? payload.transferId : typeof payload.requestId === 'string' ? payload.requestId : undefined;
  if (!id) return undefined;
  if (kind.startsWith('transfer.')) return transferCard(deps, actor, id, undefined, { wasSentIt: true });
  if (kind.startsWith('access.')) return accessCard(deps, actor, id, undefined, { wasSentIt: true });
  return undefined;
}

/** An earlier approval message, for the in-place update of its card. */
export async function originalMessage(deps: AppDeps, originalId: string) {
  return approvalsRepo.deliveredMessage(deps.db, originalId);
}

// ---------------------------------------------------------------------------
// The sweep: escalations and expiry warnings

/**
 * Transfers pending past their escalation date go to the sending area's
 * supervisors (once); grants ending within a day are announced to their
 * holder (once). Rows are claimed with SKIP LOCKED like the reminder sweep.
 */
export async function sweepApprovals(deps: AppDeps, batch: number): Promise<number> {
  const now = deps.now();
  const today = londonDate(now);
  let queued = 0;
  for (;;) {
    const n = await deps.db.transaction(async (tx) => {
      const rows = await approvalsRepo.claimTransfersToEscalate(tx, today, batch);
      const messages: OutboxMessage[] = rows.flatMap((t) =>
        trainedCaseWorkers(deps.directory, t.fromAreaId, today, { supervisorsOnly: true }).map((s) => ({
          key: `transfer.escalated:${t.id}:${t.escalateAfter}:${s}`,
          kind: 'transfer.escalated',
          recipientAadObjectId: s,
          payload: { transferId: t.id, reference: t.reference, fromAreaId: t.fromAreaId, toAreaId: t.toAreaId },
        })),
      );
      await enqueueMessages(tx, messages, now);
      await approvalsRepo.markTransfersEscalated(tx, rows.map((r) => r.id), now);
      queued += messages.length;
      return rows.length;
    });
    if (n < batch) break;
  }
  for (;;) {
    const n = await deps.db.transaction(async (tx) => {
      const rows = await approvalsRepo.claimGrantsToWarn(tx, now, new Date(now.getTime() + EXPIRY_WARNING_MS), batch);
      await enqueueMessages(
        tx,
        rows.map((g) => ({
          key: `access.expiring:${g.id}:${g.requesterAadObjectId}`,
          kind: 'access.expiring',
          recipientAadObjectId: g.requesterAadObjectId,
          payload: { requestId: g.id, expiresAt: g.expiresAt.toISOString() },
        })),
        now,
      );
      await approvalsRepo.markGrantsWarned(tx, rows.map((r) => r.id), now);
      queued += rows.length;
      return rows.length;
    });
    if (n < batch) break;
  }
  return queued;
}
