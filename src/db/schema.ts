/**
 * The one drizzle schema for PGlite and PostgreSQL. `drizzle-kit generate`
 * turns it into migrations/; never edit a generated migration by hand.
 * Invariants live here as constraints, not in comments.
 */
import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  check,
  date,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  smallint,
  text,
  timestamp,
  uniqueIndex,
  uuid,
  type AnyPgColumn,
} from 'drizzle-orm/pg-core';
import { triageOutcomes } from '../domain/case.js';

const utc = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/**
 * Referral numbers come from the database so every instance agrees: one
 * counter row per reference prefix and year, advanced with
 * `UPDATE … SET last = last + 1 RETURNING` inside the submit transaction.
 * Unlike a sequence it restarts each year and leaves no gaps on rollback.
 */
export const referenceCounters = pgTable(
  'reference_counters',
  {
    prefix: text('prefix').notNull(),
    year: integer('year').notNull(),
    last: integer('last').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.prefix, t.year] }), check('reference_counters_last_check', sql`${t.last} between 0 and 999999`)],
);

/** botbuilder `Storage` for teams-ai turn state; `etag` is the optimistic-concurrency token. */
export const botState = pgTable('bot_state', {
  key: text('key').primaryKey(),
  data: jsonb('data').notNull(),
  etag: text('etag').notNull(),
  updatedAt: utc('updated_at').notNull().defaultNow(),
});

/** Where to send proactive messages to a user (stored on install and on each chat). */
export const conversationRefs = pgTable('conversation_refs', {
  aadObjectId: text('aad_object_id').primaryKey(),
  reference: jsonb('reference').notNull(),
  updatedAt: utc('updated_at').notNull().defaultNow(),
  /** Set when Teams answered 403/404 (app removed or blocked): no more sends until the user talks to the bot again. */
  unreachableSince: utc('unreachable_since'),
});

/** Per-user choices: reminders now, or gathered into one 08:00 digest. */
export const userSettings = pgTable(
  'user_settings',
  {
    aadObjectId: text('aad_object_id').primaryKey(),
    reminderMode: text('reminder_mode', { enum: ['immediate', 'digest'] }).notNull().default('immediate'),
    updatedAt: utc('updated_at').notNull(),
  },
  (t) => [check('user_settings_mode_check', sql`${t.reminderMode} in ('immediate', 'digest')`)],
);

export const drafts = pgTable(
  'drafts',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    ownerAadObjectId: text('owner_aad_object_id').notNull(),
    pathway: text('pathway').notNull(),
    currentStep: text('current_step').notNull(),
    answers: jsonb('answers').notNull().default(sql`'{}'::jsonb`),
    status: text('status', { enum: ['open', 'submitted'] }).notNull().default('open'),
    createdAt: utc('created_at').notNull().defaultNow(),
    updatedAt: utc('updated_at').notNull().defaultNow(),
  },
  (t) => [
    index('drafts_owner_status_idx').on(t.ownerAadObjectId, t.status),
    check('drafts_status_check', sql`${t.status} in ('open', 'submitted')`),
  ],
);

export const referrals = pgTable(
  'referrals',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    reference: text('reference').notNull(),
    pathway: text('pathway').notNull(),
    /** One referral per draft: this is what makes Submit idempotent. */
    draftId: uuid('draft_id').notNull(),
    referrerAadObjectId: text('referrer_aad_object_id').notNull(),
    areaId: text('area_id').notNull(),
    status: text('status', { enum: ['received', 'being_assessed', 'closed'] }).notNull().default('received'),
    answers: jsonb('answers').notNull(),
    submittedAt: utc('submitted_at').notNull(),
    /** The gateway assessment is due by this London date (working days set by the pathway). */
    triageDueOn: date('triage_due_on', { mode: 'string' }).notNull(),
    /** Triage reminders queued so far: 0 none, 1 due today, 2 overdue (officers and supervisors told). */
    triageReminderStage: smallint('triage_reminder_stage').notNull().default(0),
    /**
     * Lower-cased last name and date of birth ("smith|2009-04-01"), for the
     * audited existence search of access requests; null without a date of birth.
     */
    personKey: text('person_key'),
    /** When the record must next be reviewed for deletion (DESIGN §7), a London date set by the pathway's policy or a Retain decision. */
    reviewDueOn: date('review_due_on', { mode: 'string' }),
    /** The review date whose reminder has been queued (so each review is reminded once). */
    reviewRemindedFor: date('review_reminded_for', { mode: 'string' }),
  },
  (t) => [
    uniqueIndex('referrals_reference_uq').on(t.reference),
    uniqueIndex('referrals_draft_uq').on(t.draftId),
    index('referrals_referrer_idx').on(t.referrerAadObjectId, t.submittedAt),
    // The triage queue: an area's untriaged referrals, oldest first.
    index('referrals_area_idx').on(t.areaId, t.status, t.submittedAt),
    // A queue over several areas (supervisors): read in order, stop after a page.
    index('referrals_queue_idx').on(t.submittedAt, t.id).where(sql`${t.status} = 'received'`),
    // The reminder sweep: untriaged referrals still owed a reminder, by due date.
    index('referrals_triage_remind_idx').on(t.triageDueOn).where(sql`${t.status} = 'received' and ${t.triageReminderStage} < 2`),
    index('referrals_person_key_idx').on(t.personKey).where(sql`${t.personKey} is not null`),
    index('referrals_review_idx').on(t.reviewDueOn),
    check('referrals_status_check', sql`${t.status} in ('received', 'being_assessed', 'closed')`),
    check('referrals_reference_format', sql`${t.reference} ~ '^[A-Z]{2,5}-[0-9]{4}-[0-9]{4,6}$'`),
  ],
);

/**
 * Append-only, hash-chained audit log (DESIGN §8). `seq` is assigned by the
 * writer under an advisory lock so the chain never forks; a trigger (see the
 * custom migration) refuses UPDATE and DELETE. Holds ids and event kinds only.
 */
export const auditLog = pgTable('audit_log', {
  seq: bigint('seq', { mode: 'number' }).primaryKey(),
  at: utc('at').notNull(),
  actorAadObjectId: text('actor_aad_object_id').notNull(),
  action: text('action').notNull(),
  entityType: text('entity_type').notNull(),
  entityId: text('entity_id').notNull(),
  purpose: text('purpose'),
  prevHash: text('prev_hash').notNull(),
  hash: text('hash').notNull(),
});

/**
 * Proactive messages waiting to be delivered. `key` is unique so a retry
 * or a second instance can never queue the same message twice.
 */
export const outbox = pgTable(
  'outbox',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    key: text('key').notNull(),
    kind: text('kind').notNull(),
    recipientAadObjectId: text('recipient_aad_object_id').notNull(),
    payload: jsonb('payload').notNull(),
    /**
     * `held`: waiting for the recipient's 08:00 digest (at next_attempt_at); `digested`: sent inside a
     * digest; `skipped`: nothing left to say when its turn came (the action was already done).
     */
    status: text('status', { enum: ['pending', 'sending', 'sent', 'unreachable', 'failed', 'skipped', 'held', 'digested'] })
      .notNull()
      .default('pending'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: utc('next_attempt_at').notNull().defaultNow(),
    lastError: text('last_error'),
    createdAt: utc('created_at').notNull().defaultNow(),
    sentAt: utc('sent_at'),
    /** The Bot Connector's id for the delivered message, so an approval card can be updated in place later. */
    sentActivityId: text('sent_activity_id'),
    /** What the message is about (a transfer, an access request), so its delivered cards can be found again. */
    subjectId: uuid('subject_id'),
  },
  (t) => [
    uniqueIndex('outbox_key_uq').on(t.key),
    index('outbox_due_idx').on(t.nextAttemptAt).where(sql`${t.status} in ('pending', 'sending')`),
    index('outbox_held_idx').on(t.nextAttemptAt, t.recipientAadObjectId).where(sql`${t.status} = 'held'`),
    index('outbox_subject_idx').on(t.subjectId).where(sql`${t.subjectId} is not null`),
    // A purge finds every message naming the person's record (migration 0010 defines the function).
    index('outbox_payload_strings_idx')
      .using('gin', sql`outbox_payload_strings(${t.payload})`)
      .with({ fastupdate: false }),
    index('outbox_update_original_idx').on(sql`(${t.payload} ->> 'originalId')`).where(sql`${t.kind} = 'approval.update'`),
  ],
);

/**
 * The gateway assessment of a referral. One per referral (unique index), so
 * two officers triaging at once cannot both win; never updated (trigger).
 */
export const triageAssessments = pgTable(
  'triage_assessments',
  {
    id: uuid('id').primaryKey(),
    referralId: uuid('referral_id')
      .notNull()
      .references(() => referrals.id),
    outcome: text('outcome', { enum: triageOutcomes }).notNull(),
    signpostedTo: text('signposted_to'),
    rationale: text('rationale').notNull(),
    contactMade: boolean('contact_made').notNull(),
    assessedByAadObjectId: text('assessed_by_aad_object_id').notNull(),
    assessedAt: utc('assessed_at').notNull(),
  },
  (t) => [
    uniqueIndex('triage_assessments_referral_uq').on(t.referralId),
    check('triage_assessments_outcome_check', sql`${t.outcome} in ('no_further_action', 'signposted', 'channel', 'police_led', 'ct_policing')`),
  ],
);

/**
 * A case opened by a triage outcome that needs work. `status` changes only by
 * a conditional update (open → closed), so two closes cannot both happen.
 */
export const cases = pgTable(
  'cases',
  {
    id: uuid('id').primaryKey(),
    referralId: uuid('referral_id')
      .notNull()
      .references(() => referrals.id),
    areaId: text('area_id').notNull(),
    /** Null: the case waits in its area's queue for an officer to take it (after a transfer into the area). */
    ownerAadObjectId: text('owner_aad_object_id'),
    kind: text('kind', { enum: ['channel', 'police_led'] }).notNull(),
    status: text('status', { enum: ['open', 'closed'] }).notNull().default('open'),
    openedAt: utc('opened_at').notNull(),
    closedAt: utc('closed_at'),
    /** Retention reviews count from here (DESIGN §7). */
    lastActivityAt: utc('last_activity_at').notNull(),
    /** Channel cases: the panel's latest decision (statistics count adopted cases); null until it meets. */
    panelDecision: text('panel_decision', { enum: ['adopted', 'notAdopted'] }),
  },
  (t) => [
    uniqueIndex('cases_referral_uq').on(t.referralId),
    index('cases_owner_idx').on(t.ownerAadObjectId, t.status, t.openedAt),
    index('cases_area_idx').on(t.areaId, t.status),
    // An area's queue of cases without an owner.
    index('cases_unowned_idx').on(t.areaId, t.openedAt).where(sql`${t.ownerAadObjectId} is null and ${t.status} = 'open'`),
    check('cases_kind_check', sql`${t.kind} in ('channel', 'police_led')`),
    check('cases_status_check', sql`${t.status} in ('open', 'closed')`),
    check('cases_panel_decision_check', sql`${t.panelDecision} in ('adopted', 'notAdopted')`),
  ],
);

/**
 * The case chronology: every event, append-only (a trigger refuses UPDATE).
 * A correction is a new entry whose `corrects_entry_id` points at the entry
 * it replaces; each entry is corrected at most once (unique), so two
 * officers correcting the same entry cannot both win. `subject_id` ties
 * entries about one thing together (an intervention and its reviews, an
 * action and its completion).
 */
export const caseEntries = pgTable(
  'case_entries',
  {
    id: uuid('id').primaryKey(),
    /** Order of writing: entries made in the same millisecond still have one order. */
    seq: bigserial('seq', { mode: 'number' }).notNull(),
    caseId: uuid('case_id')
      .notNull()
      .references(() => cases.id),
    kind: text('kind').notNull(),
    subjectId: uuid('subject_id'),
    correctsEntryId: uuid('corrects_entry_id').references((): AnyPgColumn => caseEntries.id),
    data: jsonb('data').notNull(),
    authorAadObjectId: text('author_aad_object_id').notNull(),
    at: utc('at').notNull(),
  },
  (t) => [
    index('case_entries_case_idx').on(t.caseId, t.seq),
    uniqueIndex('case_entries_corrects_uq').on(t.correctsEntryId),
  ],
);

/**
 * Actions with due dates: the reminder sweep reads open actions by due date.
 * Completion and reassignment are conditional updates on `status = 'open'`;
 * each also writes a chronology entry, which is the record.
 */
export const caseActions = pgTable(
  'case_actions',
  {
    id: uuid('id').primaryKey(),
    caseId: uuid('case_id')
      .notNull()
      .references(() => cases.id),
    /** `officer`: the title is what the officer typed; `system`: the title is a message-catalogue key (scheduled reviews). */
    kind: text('kind', { enum: ['officer', 'system'] }).notNull().default('officer'),
    title: text('title').notNull(),
    ownerAadObjectId: text('owner_aad_object_id').notNull(),
    /** A London calendar date, not an instant. */
    dueOn: date('due_on', { mode: 'string' }).notNull(),
    status: text('status', { enum: ['open', 'done'] }).notNull().default('open'),
    /** Reminders queued so far: 0 none, 1 due tomorrow, 2 due today, 3 overdue, 4 escalated to the supervisor. */
    reminderStage: smallint('reminder_stage').notNull().default(0),
    createdAt: utc('created_at').notNull(),
    completedAt: utc('completed_at'),
  },
  (t) => [
    index('case_actions_case_idx').on(t.caseId, t.status, t.dueOn),
    // The reminder sweep reads only actions still owed a reminder, so its cost follows
    // the number due, not the number open.
    index('case_actions_remind_idx').on(t.dueOn).where(sql`${t.status} = 'open' and ${t.reminderStage} < 4`),
    index('case_actions_owner_idx').on(t.ownerAadObjectId, t.status, t.dueOn),
    check('case_actions_status_check', sql`${t.status} in ('open', 'done')`),
    check('case_actions_kind_check', sql`${t.kind} in ('officer', 'system')`),
  ],
);

/**
 * A request to move a case to another area (DESIGN §5). Decided once: every
 * change is `UPDATE … WHERE status = 'pending'`, so two approvers pressing at
 * once (or one pressing twice) record one decision. One pending per case.
 */
export const transfers = pgTable(
  'transfers',
  {
    id: uuid('id').primaryKey(),
    caseId: uuid('case_id')
      .notNull()
      .references(() => cases.id),
    fromAreaId: text('from_area_id').notNull(),
    toAreaId: text('to_area_id').notNull(),
    requestedByAadObjectId: text('requested_by_aad_object_id').notNull(),
    reason: text('reason').notNull(),
    newAddress: text('new_address').notNull(),
    status: text('status', { enum: ['pending', 'accepted', 'declined', 'withdrawn'] }).notNull().default('pending'),
    requestedAt: utc('requested_at').notNull(),
    /** Escalate to the sending area's supervisors after this London date (working days set by configuration). */
    escalateAfter: date('escalate_after', { mode: 'string' }).notNull(),
    escalatedAt: utc('escalated_at'),
    decidedByAadObjectId: text('decided_by_aad_object_id'),
    decidedAt: utc('decided_at'),
    decisionNote: text('decision_note'),
    /** On acceptance: the new owner, or null for the receiving area's queue. */
    newOwnerAadObjectId: text('new_owner_aad_object_id'),
  },
  (t) => [
    uniqueIndex('transfers_pending_uq').on(t.caseId).where(sql`${t.status} = 'pending'`),
    index('transfers_to_area_idx').on(t.toAreaId, t.requestedAt).where(sql`${t.status} = 'pending'`),
    index('transfers_escalate_idx').on(t.escalateAfter).where(sql`${t.status} = 'pending' and ${t.escalatedAt} is null`),
    index('transfers_case_idx').on(t.caseId, t.requestedAt),
    check('transfers_status_check', sql`${t.status} in ('pending', 'accepted', 'declined', 'withdrawn')`),
    check('transfers_areas_differ', sql`${t.fromAreaId} <> ${t.toAreaId}`),
  ],
);

/**
 * A request from another area's officer or a partner agency to see a record
 * (DESIGN §6). `granted` gives read-only access to `scopes` until
 * `expires_at`; decided once, like transfers. Refused requests (vetting
 * purposes) are kept so the refusal itself is on record.
 */
export const accessRequests = pgTable(
  'access_requests',
  {
    id: uuid('id').primaryKey(),
    referralId: uuid('referral_id')
      .notNull()
      .references(() => referrals.id),
    /** The area that owns the record now (moved with the case on a transfer); its supervisors decide. */
    areaId: text('area_id').notNull(),
    requesterAadObjectId: text('requester_aad_object_id').notNull(),
    requesterRole: text('requester_role', { enum: ['officer', 'partner'] }).notNull(),
    purpose: text('purpose').notNull(),
    purposeDetail: text('purpose_detail'),
    justification: text('justification').notNull(),
    scopes: jsonb('scopes').$type<string[]>().notNull(),
    days: smallint('days').notNull(),
    status: text('status', { enum: ['pending', 'granted', 'declined', 'withdrawn', 'refused'] }).notNull().default('pending'),
    requestedAt: utc('requested_at').notNull(),
    decidedByAadObjectId: text('decided_by_aad_object_id'),
    decidedAt: utc('decided_at'),
    decisionNote: text('decision_note'),
    expiresAt: utc('expires_at'),
    /** Set when the requester was warned, a day ahead, that the grant ends. */
    expiryWarnedAt: utc('expiry_warned_at'),
  },
  (t) => [
    index('access_requests_area_idx').on(t.areaId, t.requestedAt).where(sql`${t.status} = 'pending'`),
    index('access_requests_requester_idx').on(t.requesterAadObjectId, t.referralId, t.status),
    index('access_requests_expiry_idx').on(t.expiresAt).where(sql`${t.status} = 'granted' and ${t.expiryWarnedAt} is null`),
    index('access_requests_referral_idx').on(t.referralId),
    check('access_requests_status_check', sql`${t.status} in ('pending', 'granted', 'declined', 'withdrawn', 'refused')`),
    check('access_requests_days_check', sql`${t.days} between 1 and 30`),
    check('access_requests_role_check', sql`${t.requesterRole} in ('officer', 'partner')`),
  ],
);

/**
 * The de-identified statistics record of a referral (DESIGN §7, §9): written
 * with the referral and kept current in the same transactions as its triage
 * and panel decision. It holds categories only; when the person's records are
 * purged the link goes (ON DELETE SET NULL) and the counts stay, so a
 * published year never changes.
 */
export const referralStatistics = pgTable(
  'referral_statistics',
  {
    id: uuid('id').primaryKey(),
    referralId: uuid('referral_id').references(() => referrals.id, { onDelete: 'set null' }),
    pathway: text('pathway').notNull(),
    /** The financial year by its starting calendar year: 2025 is 1 April 2025 – 31 March 2026 (London dates). */
    financialYear: smallint('financial_year').notNull(),
    sector: text('sector').notNull(),
    concernType: text('concern_type').notNull(),
    ageBand: text('age_band').notNull(),
    gender: text('gender').notNull(),
    areaId: text('area_id').notNull(),
    /** The gateway outcome; null while the referral waits for triage. */
    outcome: text('outcome'),
    channelAdopted: boolean('channel_adopted').notNull().default(false),
  },
  (t) => [
    uniqueIndex('referral_statistics_referral_uq').on(t.referralId),
    index('referral_statistics_year_idx').on(t.pathway, t.financialYear),
  ],
);

/**
 * Decisions to keep a record at its retention review (DESIGN §7): why, and
 * until when. Purged with the record.
 */
export const retentionDecisions = pgTable(
  'retention_decisions',
  {
    id: uuid('id').primaryKey(),
    referralId: uuid('referral_id')
      .notNull()
      .references(() => referrals.id),
    justification: text('justification').notNull(),
    /** Records about a child under the policy's age need this too. */
    childJustification: text('child_justification'),
    nextReviewOn: date('next_review_on', { mode: 'string' }).notNull(),
    decidedByAadObjectId: text('decided_by_aad_object_id').notNull(),
    decidedAt: utc('decided_at').notNull(),
  },
  (t) => [index('retention_decisions_referral_idx').on(t.referralId, t.decidedAt)],
);

/**
 * A proposal to delete a record, approved inline by a supervisor of its area
 * (decided once, like transfers). Approval purges the record in the same
 * transaction; this row stays with ids, the reference and the outcome only
 * (the reason and note are cleared), so the approval cards can still say what
 * happened.
 */
export const deletionRequests = pgTable(
  'deletion_requests',
  {
    id: uuid('id').primaryKey(),
    referralId: uuid('referral_id').references(() => referrals.id, { onDelete: 'set null' }),
    reference: text('reference').notNull(),
    areaId: text('area_id').notNull(),
    requestedByAadObjectId: text('requested_by_aad_object_id').notNull(),
    reason: text('reason'),
    status: text('status', { enum: ['pending', 'approved', 'declined', 'withdrawn'] }).notNull().default('pending'),
    requestedAt: utc('requested_at').notNull(),
    decidedByAadObjectId: text('decided_by_aad_object_id'),
    decidedAt: utc('decided_at'),
    decisionNote: text('decision_note'),
    purgedAt: utc('purged_at'),
  },
  (t) => [
    uniqueIndex('deletion_requests_pending_uq').on(t.referralId).where(sql`${t.status} = 'pending'`),
    index('deletion_requests_area_idx').on(t.areaId, t.requestedAt).where(sql`${t.status} = 'pending'`),
    // The purge's ON DELETE SET NULL and its clean-up look rows up by referral.
    index('deletion_requests_referral_idx').on(t.referralId),
    check('deletion_requests_status_check', sql`${t.status} in ('pending', 'approved', 'declined', 'withdrawn')`),
  ],
);

/**
 * Download links already used (single-use across every instance): the nonce
 * of each, kept until the link would have expired anyway.
 */
export const spentDownloadTokens = pgTable(
  'spent_download_tokens',
  {
    nonce: text('nonce').primaryKey(),
    expiresAt: utc('expires_at').notNull(),
  },
  (t) => [index('spent_download_tokens_expiry_idx').on(t.expiresAt)],
);
