/**
 * Every card the bot can send, rendered from its template with realistic
 * data, checked the way Teams would read it: Adaptive Card 1.5, no unbound
 * `${…}`, every input labelled, ids unique, every Action.Execute has a verb,
 * every word from the catalogue.
 */
import { describe, expect, it } from 'vitest';
import { parseDirectory } from '../../src/domain/directory.js';
import { readFileSync } from 'node:fs';
import { demoDirectoryFile } from '../../src/paths.js';
import { translator, isMessageKey } from '../../src/i18n/catalogue.js';
import { preventPathway } from '../../src/forms/prevent.js';
import * as views from '../../src/bot/views.js';
import type { ViewContext } from '../../src/bot/views.js';
import type { Draft } from '../../src/db/repositories/drafts.js';
import type { Referral } from '../../src/db/repositories/referrals.js';
import { escapeMarkdown } from '../../src/bot/cards.js';
import { caseFormIds, type Answers, type FieldError } from '../../src/domain/forms.js';
import type { CaseEntry } from '../../src/domain/case.js';
import type { Case, CaseAction, Triage } from '../../src/db/repositories/cases.js';
import { caseScreenCard } from '../../src/bot/case-views.js';
import { dueCard, notificationCard, settingsCard } from '../../src/bot/notifications.js';
import { approvalScreenCard } from '../../src/bot/approval-views.js';
import { retentionScreenCard } from '../../src/bot/retention-views.js';
import type { RetentionScreen, ReviewRecord } from '../../src/app/retention.js';
import type { DeletionRequest } from '../../src/db/repositories/retention.js';
import type { ApprovalScreen } from '../../src/app/approvals.js';
import type { AccessRequest, Transfer } from '../../src/db/repositories/approvals.js';
import type { AccessScope } from '../../src/domain/approvals.js';
import { accessDecisionForm, accessFindForm, accessRequestForm, transferDecisionForm } from '../../src/forms/approvals.js';
import { statisticsCard } from '../../src/bot/statistics-view.js';
import { buildReport, type YearCounts } from '../../src/domain/statistics.js';
import pino from 'pino';
import { cardActions, cardText } from '../harness/cards.js';

const directory = parseDirectory(readFileSync(demoDirectoryFile, 'utf8'), 'demo');
const v: ViewContext = { t: translator('en-GB'), directory, today: '2026-11-28' };
const answers: Answers = {
  danger: { immediateDanger: 'no' },
  aboutYou: { referrerName: 'Alex', jobTitle: 'Teacher', organisation: 'School', sector: 'education', phone: '0207', relationship: 'Tutor' },
  aboutPerson: { firstName: 'Jo', lastName: 'Bloggs', dateOfBirth: '2011-05-04', gender: 'female', address: '1 Road', area: 'northgate' },
  concern: { whatSeenOrHeard: 'Saw [a link](http://x) and *bold*', whenAndWhere: 'Monday', concernType: 'incel', behaviours: ['withdrawal'], threatsOfViolence: 'unknown' },
  consent: { personAware: 'no', personConsented: 'notAsked' },
};
const draft: Draft = { id: '6f1c1d8e-1b7a-4c1e-9c43-0a2b3c4d5e6f', ownerAadObjectId: 'x', pathway: 'prevent', currentStep: 'concern', answers, status: 'open', createdAt: new Date(), updatedAt: new Date() };
const referral: Referral = { id: 'r', reference: 'PRV-2026-000042', pathway: 'prevent', draftId: draft.id, referrerAadObjectId: 'x', areaId: 'northgate', status: 'received', answers, submittedAt: new Date('2026-07-01T09:30:00Z'), triageDueOn: '2026-07-08' };
const actor = directory.actor('00000000-0000-0000-0000-0000000000021', 'Megan');
const errors: Record<string, FieldError> = { firstName: { key: 'error.field.required' }, approximateAge: { key: 'error.field.number', params: { min: 0, max: 120 } } };

const cards: Record<string, Record<string, unknown>> = {
  ...Object.fromEntries(
    preventPathway.steps.map((step) => [
      `step ${step.id}`,
      views.wizardCard(v, { kind: 'step', draft, pathway: preventPathway, step, values: { firstName: 'Jo', approximateAge: '14', behaviours: 'withdrawal,other' }, errors, fromReview: false }),
    ]),
  ),
  danger: views.wizardCard(v, { kind: 'danger', draft }),
  saved: views.wizardCard(v, { kind: 'saved', draft }),
  ack: views.wizardCard(v, { kind: 'submitted', referral, alreadySubmitted: false }),
  welcome: views.welcomeCard(v),
  help: views.helpCard(v, actor, 'blah'),
  whoami: views.whoamiCard(v, actor),
  error: views.errorCard(v, 'forbidden'),
  myReferrals: views.myReferralsCard(v, [referral]),
  myReferralsEmpty: views.myReferralsCard(v, []),
  drafts: views.draftsCard(v, [draft], () => preventPathway),
  draftsEmpty: views.draftsCard(v, [], () => preventPathway),
  notice: views.noticeCard(v, { reference: 'PRV-2026-000042', areaId: 'northgate', submittedAt: '2026-07-01T09:30:00Z' }),
  statusNotice: views.statusNoticeCard(v, { reference: 'PRV-2026-000042', status: 'being_assessed' }),
  ...notificationCards(),
  ...officerCards(),
  ...approvalCards(),
  ...retentionCards(),
  ...(await statisticsCards()),
};

/** The statistics card: a year with every kind of figure, and the same card with a CSV link just issued. */
async function statisticsCards(): Promise<Record<string, Record<string, unknown>>> {
  const dims = ['sector', 'concernType', 'ageBand', 'gender', 'area', 'outcome'] as const;
  const counts = (by: Partial<Record<(typeof dims)[number], Record<string, number>>>, total: number, adopted: number): YearCounts => ({
    total,
    adopted,
    by: Object.fromEntries(dims.map((d) => [d, new Map(Object.entries(by[d] ?? {}))])) as unknown as YearCounts['by'],
  });
  const report = buildReport({
    pathway: preventPathway,
    year: 2026,
    today: '2026-11-28',
    areaIds: directory.areas.map((a) => a.id),
    counts: counts({ sector: { education: 30, health: 3, police: 7 }, concernType: { islamist: 37, incel: 3 }, ageBand: { under15: 40 }, gender: { male: 40 }, area: { northgate: 40 }, outcome: { channel: 38, awaiting: 2 } }, 40, 20),
    previous: counts({ sector: { education: 12 }, concernType: { islamist: 12 }, ageBand: { under15: 12 }, gender: { male: 12 }, area: { northgate: 12 }, outcome: { no_further_action: 12 } }, 12, 0),
  });
  const log = pino({ level: 'silent' });
  return {
    stats: await statisticsCard(v, report, { log }),
    statsWithLink: await statisticsCard(v, report, { log, link: { url: 'https://desk.example.org/stats/x.y.csv', validMinutes: 5 } }),
  };
}

/** Every notification kind, a digest, `due` and `settings`. */
function notificationCards(): Record<string, Record<string, unknown>> {
  const megan = '00000000-0000-0000-0000-0000000000021';
  const actionId = 'a0000000-0000-4000-8000-000000000001';
  const actions = new Map([[actionId, { id: actionId, reference: 'PRV-2026-000042', kind: 'officer' as const, title: 'Visit *home*', dueOn: '2026-11-29', status: 'open' as const }]]);
  const action = { reference: 'PRV-2026-000042', actionId, dueOn: '2026-11-29', ownerAadObjectId: megan };
  const triage = { reference: 'PRV-2026-000043', areaId: 'northgate', dueOn: '2026-11-27' };
  const out: Record<string, Record<string, unknown>> = {};
  for (const kind of ['action.dueTomorrow', 'action.dueToday', 'action.overdue', 'action.escalated'] as const) out[kind] = notificationCard(v, kind, action, actions)!;
  for (const kind of ['triage.dueToday', 'triage.overdue'] as const) out[kind] = notificationCard(v, kind, triage, actions)!;
  out['user.unreachable'] = notificationCard(v, 'user.unreachable', { aadObjectId: megan, reason: 'blocked' }, actions)!;
  out.digest = notificationCard(v, 'digest', { items: [{ kind: 'action.dueTomorrow', payload: action }, { kind: 'triage.dueToday', payload: triage }] }, actions)!;
  out.due = dueCard(v, { actions: [...actions.values()], triages: [triage] });
  out.dueEmpty = dueCard(v, { actions: [], triages: [] });
  out.settings = settingsCard(v, 'digest', true);
  return out;
}

/** The officers' cards over one realistic case: triaged to Channel, with entries of every kind, a correction and open actions. */
function officerCards(): Record<string, Record<string, unknown>> {
  const at = (iso: string) => new Date(iso);
  const megan = '00000000-0000-0000-0000-0000000000021';
  const caseId = 'c0000000-0000-4000-8000-000000000001';
  const intervention = 'e0000000-0000-4000-8000-000000000003';
  const entry = (id: string, kind: CaseEntry['kind'], data: CaseEntry['data'], when: string, extra: Partial<CaseEntry> = {}): CaseEntry => ({
    id,
    kind,
    subjectId: null,
    correctsEntryId: null,
    data,
    authorAadObjectId: megan,
    at: at(when),
    ...extra,
  });
  const entries: CaseEntry[] = [
    entry('e0000000-0000-4000-8000-000000000001', 'opened', { outcome: 'channel' }, '2026-07-03T10:00:00Z'),
    entry('e0000000-0000-4000-8000-000000000002', 'consent', { status: 'given', decidedOn: '2026-07-04', givenBy: 'parentCarer', parentCarerName: 'Sam *Bloggs*' }, '2026-07-04T10:00:00Z'),
    entry(intervention, 'intervention', { type: 'mentoring', provider: 'Mentor [Co](http://x)', startOn: '2026-07-10', working: 'tooEarly' }, '2026-07-10T10:00:00Z', { subjectId: intervention }),
    entry('e0000000-0000-4000-8000-000000000004', 'vulnerability', { assessedOn: '2026-07-05', engagement: '2', intent: '1', capability: '1', engagementFactors: ['identity'] }, '2026-07-05T10:00:00Z'),
    entry('e0000000-0000-4000-8000-000000000005', 'vulnerability', { assessedOn: '2026-09-05', engagement: '1', intent: '1', capability: '0' }, '2026-09-05T10:00:00Z'),
    entry('e0000000-0000-4000-8000-000000000006', 'note', { text: 'Spoke to *school*' }, '2026-09-06T10:00:00Z'),
    entry('e0000000-0000-4000-8000-000000000007', 'note', { text: 'Spoke to the school', correctionReason: 'Typo' }, '2026-09-07T10:00:00Z', { correctsEntryId: 'e0000000-0000-4000-8000-000000000006' }),
    entry('e0000000-0000-4000-8000-000000000008', 'interventionReview', { working: 'yes', note: 'Engaging well' }, '2026-10-01T10:00:00Z', { subjectId: intervention }),
    entry('e0000000-0000-4000-8000-000000000009', 'action', { title: 'Call mentor', owner: megan, dueOn: '2026-11-20' }, '2026-10-02T10:00:00Z'),
    entry('e0000000-0000-4000-8000-000000000010', 'actionReassign', { owner: megan, from: '00000000-0000-0000-0000-0000000000023' }, '2026-10-03T10:00:00Z'),
    entry('e0000000-0000-4000-8000-000000000011', 'actionComplete', { note: 'Done' }, '2026-10-04T10:00:00Z'),
    entry('e0000000-0000-4000-8000-000000000012', 'closed', { reason: 'riskReduced', note: 'All good' }, '2026-10-05T10:00:00Z'),
    entry('e0000000-0000-4000-8000-000000000013', 'panel', { decision: 'adopted', decidedOn: '2026-07-20', note: 'Agreed' }, '2026-07-20T10:00:00Z'),
  ];
  const theCase: Case = { id: caseId, referralId: referral.id, areaId: 'northgate', ownerAadObjectId: megan, kind: 'channel', status: 'open', openedAt: at('2026-07-03T10:00:00Z'), closedAt: null, lastActivityAt: at('2026-10-05T10:00:00Z'), panelDecision: 'adopted' };
  const triage: Triage = { id: 't', referralId: referral.id, outcome: 'channel', signpostedTo: null, rationale: 'Risk *present*', contactMade: true, assessedByAadObjectId: megan, assessedAt: at('2026-07-03T10:00:00Z') };
  const actions: CaseAction[] = [
    { id: 'a0000000-0000-4000-8000-000000000001', caseId, kind: 'officer', title: 'Call mentor', ownerAadObjectId: megan, dueOn: '2026-11-20', status: 'open', createdAt: at('2026-10-02T10:00:00Z'), completedAt: null },
    { id: 'a0000000-0000-4000-8000-000000000002', caseId, kind: 'system', title: 'action.channelReview.6', ownerAadObjectId: megan, dueOn: '2027-04-05', status: 'open', createdAt: at('2026-10-05T10:00:00Z'), completedAt: null },
  ];
  const record = { referral, pathway: preventPathway, triage: undefined, case: undefined };
  const caseRecord = { referral, pathway: preventPathway, triage, case: theCase };
  const officers = [megan, '00000000-0000-0000-0000-0000000000023'];
  const out: Record<string, Record<string, unknown>> = {
    queue: caseScreenCard(v, { kind: 'queue', items: [{ id: 'r', reference: 'PRV-2026-000042', areaId: 'northgate', submittedAt: at('2026-11-20T09:00:00Z'), triageDueOn: '2026-11-27' }], total: 40 }),
    queueEmpty: caseScreenCard(v, { kind: 'queue', items: [], total: 0 }),
    cases: caseScreenCard(v, { kind: 'cases', items: [{ reference: 'PRV-2026-000042', kind: 'channel', openedAt: at('2026-07-03T10:00:00Z'), firstName: 'Jo', lastName: 'Bloggs', nextDueOn: '2026-12-01' }] }),
    casesEmpty: caseScreenCard(v, { kind: 'cases', items: [] }),
    referralUntriaged: caseScreenCard(v, { kind: 'referral', record, canTriage: true }),
    referralTriaged: caseScreenCard(v, { kind: 'referral', record: caseRecord, canTriage: false, notice: { key: 'triage.already', params: { name: 'Megan', at: '2026-07-03T10:00:00Z' }, tone: 'attention' } }),
    case: caseScreenCard(v, { kind: 'case', summary: { ...caseRecord, entries, openActions: actions, pendingTransfer: undefined }, notice: { key: 'case.saved.consent', tone: 'good' } }),
    caseClosed: caseScreenCard(v, { kind: 'case', summary: { ...caseRecord, case: { ...theCase, status: 'closed' }, entries, openActions: actions, pendingTransfer: undefined } }),
    chronology: caseScreenCard(v, {
      kind: 'chronology',
      record: caseRecord,
      entries: [...entries].reverse(),
      corrected: new Set(['e0000000-0000-4000-8000-000000000006']),
      correctedAt: new Map([['e0000000-0000-4000-8000-000000000006', at('2026-09-06T10:00:00Z')]]),
      page: 1,
      pages: 3,
    }),
    correction: caseScreenCard(v, { kind: 'form', form: 'note', record: caseRecord, corrects: entries[5]!, values: { text: 'x' }, errors: { correctionReason: { key: 'error.field.required' } }, officers }),
  };
  for (const form of caseFormIds.filter((f) => f !== 'correction')) {
    out[`form ${form}`] = caseScreenCard(v, { kind: 'form', form, record: form === 'triage' ? record : caseRecord, values: {}, errors: {}, officers, subjectId: 'a0000000-0000-4000-8000-000000000001' });
  }
  return out;
}

type Node = Record<string, unknown>;
function walk(node: unknown, visit: (n: Node) => void): void {
  if (Array.isArray(node)) node.forEach((n) => walk(n, visit));
  else if (node && typeof node === 'object') {
    visit(node as Node);
    Object.values(node).forEach((c) => walk(c, visit));
  }
}

describe.each(Object.entries(cards))('card %s', (_name, card) => {
  it('is an Adaptive Card 1.5 with nothing left unbound', () => {
    expect(card.type).toBe('AdaptiveCard');
    expect(card.version).toBe('1.5');
    expect(JSON.stringify(card)).not.toContain('${');
  });

  it('labels every input, keeps ids unique, gives every Execute a verb and a Submit fallback', () => {
    const ids: string[] = [];
    walk(card, (n) => {
      const type = String(n.type ?? '');
      if (type.startsWith('Input.')) {
        expect(typeof n.label, `input ${String(n.id)} label`).toBe('string');
        expect((n.label as string).length).toBeGreaterThan(0);
        ids.push(String(n.id));
      }
      // A card's `refresh.action` is an Execute by definition (Universal Actions only): it has no Submit fallback.
      if (type === 'Action.Execute' && n !== (card.refresh as Node | undefined)?.action) {
        expect(typeof n.verb).toBe('string');
        expect((n.fallback as Node | undefined)?.type).toBe('Action.Submit');
        expect(((n.fallback as Node).data as Node).verb).toBe(n.verb);
      }
    });
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('shows no catalogue key where words should be', () => {
    walk(card, (n) => {
      for (const k of ['text', 'label', 'title', 'placeholder'] as const) {
        const s = n[k];
        if (typeof s === 'string') expect(isMessageKey(s), `${k}: ${s}`).toBe(false);
      }
    });
  });
});

describe('the catalogue and the form agree', () => {
  it('has a label for every field, a title for every step, a label for every choice', () => {
    const missing: string[] = [];
    const caseForms = Object.values(preventPathway.caseForms);
    for (const step of [...preventPathway.steps, ...caseForms]) {
      const title = caseForms.includes(step) ? `form.${step.id === 'correction' ? 'correct' : step.id}.title` : `step.${step.id}.title`;
      if (!isMessageKey(title)) missing.push(title);
      for (const f of step.fields) {
        if (!isMessageKey(`field.${step.id}.${f.id}.label`)) missing.push(`field.${step.id}.${f.id}.label`);
        for (const c of f.choices ?? []) if (!isMessageKey(`choice.${f.choiceSet}.${c}`)) missing.push(`choice.${f.choiceSet}.${c}`);
      }
    }
    expect(missing).toEqual([]);
  });
});

describe('text a user typed', () => {
  it('cannot smuggle links or emphasis into a card', () => {
    const text = JSON.stringify(cards.referralUntriaged);
    expect(text).not.toContain('[a link](http://x)');
    const caseText = JSON.stringify([cards.case, cards.chronology]);
    for (const raw of ['[Co](http://x)', '*Bloggs*', '*school*', '*present*']) expect(caseText).not.toContain(raw);
    expect(escapeMarkdown('[a](b) *c* _d_\n- item\n1. one')).toBe('\\[a\\]\\(b\\) \\*c\\* \\_d\\_\n\\- item\n1\\. one');
  });

  it('stays as typed when it looks like a template binding', () => {
    const step = preventPathway.steps.find((s) => s.id === 'aboutPerson')!;
    const card = views.wizardCard(v, { kind: 'step', draft, pathway: preventPathway, step, values: { firstName: 'x ${y}', lastName: '${kind}', address: "${label} ${kind == 'text'}" }, errors: {}, fromReview: false });
    const values: Record<string, unknown> = {};
    walk(card, (n) => {
      if (typeof n.id === 'string' && String(n.type).startsWith('Input.')) values[n.id] = n.value;
    });
    expect(values).toMatchObject({ firstName: 'x ${y}', lastName: '${kind}', address: "${label} ${kind == 'text'}" });
  });
});

/**
 * Retention (DESIGN §7): the reviews list, a review (kept by policy, kept by
 * a decision about a young child, with a deletion pending), its two forms
 * with errors, and the deletion's approval card for each audience and state.
 */
function retentionCards(): Record<string, Record<string, unknown>> {
  const at = (iso: string) => new Date(iso);
  const megan = '00000000-0000-0000-0000-0000000000021';
  const isaiah = '00000000-0000-0000-0000-0000000000023';
  const theCase: Case = { id: 'c1', referralId: referral.id, areaId: 'northgate', ownerAadObjectId: megan, kind: 'channel', status: 'closed', openedAt: at('2026-07-03T10:00:00Z'), closedAt: at('2026-09-01T10:00:00Z'), lastActivityAt: at('2026-09-01T10:00:00Z'), panelDecision: null };
  const triage: Triage = { id: 't', referralId: referral.id, outcome: 'channel', signpostedTo: null, rationale: 'Risk', contactMade: true, assessedByAadObjectId: megan, assessedAt: at('2026-07-03T10:00:00Z') };
  const deletion: DeletionRequest = {
    id: 'd0000000-0000-4000-8000-000000000001',
    referralId: referral.id,
    reference: 'PRV-2026-000042',
    areaId: 'northgate',
    requestedByAadObjectId: megan,
    reason: 'No longer *needed*',
    status: 'pending',
    requestedAt: at('2032-09-02T10:00:00Z'),
    decidedByAadObjectId: null,
    decidedAt: null,
    decisionNote: null,
    purgedAt: null,
  };
  const record: ReviewRecord = {
    referral,
    pathway: preventPathway,
    triage,
    case: theCase,
    reviewDueOn: '2032-09-01',
    lastDecision: undefined,
    holdings: { entries: 12, openActions: 1, transfers: 1, grants: 0 },
    personAge: 15,
    pendingDeletion: undefined,
    latestNextReview: '2034-09-02',
    needsChildJustification: false,
  };
  const child: ReviewRecord = {
    ...record,
    needsChildJustification: true,
    personAge: 7,
    lastDecision: { id: 'x', referralId: referral.id, justification: 'Sibling *case* open', childJustification: 'Linked', nextReviewOn: '2032-09-01', decidedByAadObjectId: isaiah, decidedAt: at('2030-09-01T10:00:00Z') },
  };
  const card = (screen: RetentionScreen) => retentionScreenCard(v, screen, [`29:${isaiah}`]);
  return {
    'retention reviews': card({ kind: 'reviews', items: [{ referralId: referral.id, reference: 'PRV-2026-000042', areaId: 'northgate', ownerAadObjectId: megan, reviewDueOn: '2032-09-01' }] }),
    'retention reviews empty': card({ kind: 'reviews', items: [] }),
    'retention review (policy)': card({ kind: 'review', record, notice: { key: 'retention.retained', params: { date: '2034-09-01' }, tone: 'good' } }),
    'retention review (child, deletion pending)': card({ kind: 'review', record: { ...child, pendingDeletion: deletion } }),
    'retention keep form': card({ kind: 'review', record: child, form: 'retain', values: { nextReviewOn: '2040-01-01' }, errors: { nextReviewOn: { key: 'error.retention.tooLate', params: { years: 2 } }, childJustification: { key: 'error.retention.childJustification', params: { age: 10 } } } }),
    'retention propose form': card({ kind: 'review', record, form: 'proposeDeletion', values: {}, errors: { reason: { key: 'error.field.required' } } }),
    'deletion decider pending': card({ kind: 'deletion', request: deletion, role: 'decider', values: { note: '' }, errors: { note: { key: 'error.retention.declineReason' } } }),
    'deletion requester pending': card({ kind: 'deletion', request: deletion, role: 'requester', notice: { key: 'retention.proposed', tone: 'good' } }),
    'deletion approved': card({ kind: 'deletion', request: { ...deletion, status: 'approved', reason: null, referralId: null, decidedByAadObjectId: isaiah, decidedAt: at('2032-09-03T10:00:00Z'), purgedAt: at('2032-09-03T10:00:00Z') }, role: 'other' }),
  };
}

describe('retention cards', () => {
  const names = Object.keys(cards).filter((k) => /^(retention |deletion )/.test(k));
  it('are all rendered, leave no {parameter} unfilled, and offer each audience its own buttons', () => {
    expect(names.length).toBe(9);
    for (const name of names) expect(JSON.stringify(cards[name]), name).not.toMatch(/\{[a-zA-Z]+\}/);
    const titles = (name: string) => cardActions(cards[name]!).map((a) => a.title);
    expect(titles('deletion decider pending')).toEqual(['Approve deletion', 'Keep the record', 'Open review']);
    expect(titles('deletion requester pending')).toEqual(['Withdraw proposal', 'Open review']);
    expect(titles('deletion approved')).toEqual([]);
    expect(titles('retention review (policy)')).toEqual(['Keep', 'Propose deletion', 'Open the record', 'Export everything held (JSON)']);
    expect(cardText(cards['retention review (child, deletion pending)']!)).toContain('about a child under 10');
    expect(cardText(cards['retention keep form']!)).toContain('Why a record about a young child must be kept');
    expect(cardText(cards['retention propose form']!)).not.toContain('young child');
  });
});

/**
 * The approval screens (DESIGN §5, §6): a transfer's card for each audience
 * and state, an access request's card likewise, the forms to find a record
 * and ask for it, the refusal, the `approvals` list and the record as a grant
 * shows it. Built by hand from the screen types the use-cases return.
 */
function approvalCards(): Record<string, Record<string, unknown>> {
  const at = (iso: string) => new Date(iso);
  const megan = '00000000-0000-0000-0000-0000000000021';
  const isaiah = '00000000-0000-0000-0000-0000000000023';
  const nestor = '00000000-0000-0000-0000-0000000000026';
  const johanna = '00000000-0000-0000-0000-0000000000028';
  const lidia = '00000000-0000-0000-0000-0000000000029';
  const caseId = 'c0000000-0000-4000-8000-000000000002';
  const userIds = [`29:${nestor}`];
  const transfer: Transfer = {
    id: 'f0000000-0000-4000-8000-000000000001',
    caseId,
    fromAreaId: 'northgate',
    toAreaId: 'eastfield',
    requestedByAadObjectId: megan,
    reason: 'Moved [away](http://x) *suddenly*',
    newAddress: '12 Orchard Row, Eastfield',
    status: 'pending',
    requestedAt: at('2026-11-20T10:00:00Z'),
    escalateAfter: '2026-11-27',
    escalatedAt: null,
    decidedByAadObjectId: null,
    decidedAt: null,
    decisionNote: null,
    newOwnerAadObjectId: null,
  };
  const transferView = { transfer, reference: 'PRV-2026-000042', personName: 'Jo Bloggs', personAge: 15, caseKind: 'channel' as const, openActions: 2 };
  const accepted: Transfer = { ...transfer, status: 'accepted', decidedByAadObjectId: nestor, decidedAt: at('2026-11-23T11:00:00Z'), decisionNote: 'Welcome *aboard*', newOwnerAadObjectId: johanna };
  const request: AccessRequest = {
    id: 'b0000000-0000-4000-8000-000000000001',
    referralId: referral.id,
    areaId: 'northgate',
    requesterAadObjectId: lidia,
    requesterRole: 'partner',
    purpose: 'other',
    purposeDetail: 'Joint *work*',
    justification: 'Risk to [siblings](http://x)',
    scopes: ['summary', 'vulnerabilities'],
    days: 7,
    status: 'pending',
    requestedAt: at('2026-11-25T09:00:00Z'),
    decidedByAadObjectId: null,
    decidedAt: null,
    decisionNote: null,
    expiresAt: null,
    expiryWarnedAt: null,
  };
  const granted: AccessRequest = { ...request, status: 'granted', decidedByAadObjectId: isaiah, decidedAt: at('2026-11-26T09:00:00Z'), expiresAt: at('2026-12-03T09:00:00Z') };
  const theCase: Case = { id: caseId, referralId: referral.id, areaId: 'northgate', ownerAadObjectId: megan, kind: 'channel', status: 'open', openedAt: at('2026-07-03T10:00:00Z'), closedAt: null, lastActivityAt: at('2026-10-05T10:00:00Z'), panelDecision: null };
  const triage: Triage = { id: 't', referralId: referral.id, outcome: 'channel', signpostedTo: null, rationale: 'Risk', contactMade: true, assessedByAadObjectId: megan, assessedAt: at('2026-07-03T10:00:00Z') };
  const entry = (n: number, kind: CaseEntry['kind'], data: CaseEntry['data'], when: string): CaseEntry => ({
    id: `e1000000-0000-4000-8000-00000000000${n}`,
    kind,
    subjectId: null,
    correctsEntryId: null,
    data,
    authorAadObjectId: megan,
    at: at(when),
  });
  const entries: CaseEntry[] = [
    entry(1, 'opened', { outcome: 'channel' }, '2026-07-03T10:00:00Z'),
    entry(2, 'consent', { status: 'given', decidedOn: '2026-07-04', givenBy: 'parentCarer', parentCarerName: 'Sam' }, '2026-07-04T10:00:00Z'),
    entry(3, 'vulnerability', { assessedOn: '2026-07-05', engagement: '2', intent: '1', capability: '1' }, '2026-07-05T10:00:00Z'),
    entry(4, 'contact', { madeOn: '2026-07-06', method: 'inPerson', note: 'Met at *school*' }, '2026-07-06T10:00:00Z'),
    entry(5, 'note', { text: 'A note' }, '2026-07-07T10:00:00Z'),
  ];
  const grantRecord = (scopes: AccessScope[]) => ({
    referral,
    triage,
    case: theCase,
    entries: scopes.includes('full') ? entries : entries.filter((e) => ['consent', 'vulnerability', 'contact'].includes(e.kind)),
    openActions: [],
    scopes,
  });
  const card = (screen: ApprovalScreen) => approvalScreenCard(v, screen, userIds);
  const item = { id: transfer.id, reference: 'PRV-2026-000042', fromAreaId: 'northgate', toAreaId: 'eastfield', requestedByAadObjectId: megan, requestedAt: at('2026-11-20T10:00:00Z') };
  const accessItem = { id: request.id, reference: 'PRV-2026-000043', areaId: 'northgate', requesterAadObjectId: lidia, requestedAt: at('2026-11-25T09:00:00Z') };
  return {
    'transfer decider pending': card({
      kind: 'transfer',
      view: transferView,
      role: 'decider',
      newOwners: [johanna, nestor],
      values: { newOwner: '', note: 'Hmm' },
      errors: { newOwner: { key: 'error.field.required' }, note: { key: 'error.transfer.declineReason' } },
    }),
    'transfer requester pending': card({ kind: 'transfer', view: transferView, role: 'requester', newOwners: [], notice: { key: 'case.saved.transfer', params: { area: 'Eastfield' }, tone: 'good' } }),
    'transfer other': card({ kind: 'transfer', view: transferView, role: 'other', newOwners: [] }),
    'transfer accepted': card({
      kind: 'transfer',
      view: { ...transferView, transfer: accepted },
      role: 'decider',
      newOwners: [johanna],
      notice: { key: 'approval.stale.accepted', params: { name: 'Nestor *Wilke*', at: '2026-11-23T11:00:00Z' }, tone: 'attention' },
    }),
    'transfer escalated': card({ kind: 'transfer', view: transferView, role: 'decider', newOwners: [johanna], notice: { key: 'notice.transfer.escalated', params: { reference: 'PRV-2026-000042', from: 'Northgate', to: 'Eastfield' }, tone: 'attention' } }),
    'access decider pending': card({ kind: 'access', view: { request, reference: 'PRV-2026-000043', active: false }, role: 'decider', values: { note: '' }, errors: { note: { key: 'error.access.declineReason' } } }),
    'access requester pending': card({ kind: 'access', view: { request, reference: '', active: false }, role: 'requester', notice: { key: 'access.sent', tone: 'good' } }),
    'access requester granted': card({ kind: 'access', view: { request: granted, reference: 'PRV-2026-000043', active: true }, role: 'requester', notice: { key: 'access.expiring', params: { until: '3 Dec 2026, 09:00' }, tone: 'attention' } }),
    'access declined': card({ kind: 'access', view: { request: { ...request, status: 'declined', decidedByAadObjectId: isaiah, decidedAt: at('2026-11-26T09:00:00Z'), decisionNote: 'Ask the *owner*' }, reference: '', active: false }, role: 'requester' }),
    'access other': card({ kind: 'access', view: { request, reference: '', active: false }, role: 'other' }),
    'access withdrawn (other)': card({ kind: 'access', view: { request: { ...request, status: 'withdrawn', decidedByAadObjectId: lidia, decidedAt: at('2026-11-26T09:00:00Z') }, reference: '', active: false }, role: 'other' }),
    'access requester ended': card({ kind: 'access', view: { request: granted, reference: 'PRV-2026-000043', active: false }, role: 'requester', notice: { key: 'access.expired', tone: 'attention' } }),
    'access refused': card({ kind: 'accessRefused', purpose: 'employmentVetting' }),
    'access find': card({ kind: 'accessFind', values: { lastName: 'Bloggs' }, errors: { dateOfBirth: { key: 'error.access.dateOfBirth' } }, notice: { key: 'access.search.none', tone: 'attention' } }),
    'access form (by reference)': card({ kind: 'accessForm', referralId: referral.id, reference: 'PRV-2026-000042', values: { scopes: 'summary,vulnerabilities', days: '7' }, errors: { justification: { key: 'error.field.required' } } }),
    'access form (by name)': card({ kind: 'accessForm', referralId: referral.id, values: {}, errors: {} }),
    'access own area': card({ kind: 'ownArea', reference: 'PRV-2026-000042' }),
    approvals: card({ kind: 'approvals', transfersIn: [item], accessIn: [accessItem], myTransfers: [item], myAccess: [{ ...accessItem, status: 'pending', expiresAt: null }, { ...accessItem, status: 'granted', expiresAt: at('2026-12-03T09:00:00Z') }] }),
    approvalsEmpty: card({ kind: 'approvals', transfersIn: [], accessIn: [], myTransfers: [], myAccess: [] }),
    'grant (summary, vulnerabilities, contacts)': card({ kind: 'grant', grant: granted, record: grantRecord(['summary', 'vulnerabilities', 'contacts']) }),
    'grant (full)': card({ kind: 'grant', grant: { ...granted, scopes: ['full'] }, record: grantRecord(['full']) }),
    'grant (no case yet)': card({ kind: 'grant', grant: granted, record: { referral, triage: undefined, case: undefined, entries: [], openActions: [], scopes: ['summary', 'vulnerabilities', 'contacts'] } }),
  };
}

describe('approval cards', () => {
  const names = Object.keys(cards).filter((k) => /^(transfer |access |approvals|grant )/.test(k));
  const text = (name: string) => JSON.stringify(cards[name]);
  const inputIds = (name: string) => {
    const ids: string[] = [];
    walk(cards[name], (n) => {
      if (String(n.type ?? '').startsWith('Input.')) ids.push(String(n.id));
    });
    return ids;
  };

  it('are all rendered and leave no {parameter} of a message unfilled', () => {
    expect(names.length).toBe(22);
    for (const name of names) expect(text(name), name).not.toMatch(/\{[a-zA-Z]+\}/);
  });

  it('refresh for their viewers with the subject and id, and offer each audience its own buttons', () => {
    expect(cards['transfer decider pending']!.refresh).toEqual({
      action: { type: 'Action.Execute', verb: 'approval.refresh', data: { subject: 'transfer', id: 'f0000000-0000-4000-8000-000000000001' } },
      userIds: ['29:00000000-0000-0000-0000-0000000000026'],
    });
    expect(cards['access decider pending']!.refresh).toMatchObject({ action: { data: { subject: 'access', id: 'b0000000-0000-4000-8000-000000000001' } } });
    const verbs = (name: string) => {
      const out: string[] = [];
      walk(cards[name], (n) => {
        if (n.type === 'Action.Execute' && n !== (cards[name]!.refresh as Node | undefined)?.action) out.push(String(n.verb));
      });
      return out;
    };
    expect(verbs('transfer decider pending')).toEqual(['transfer.accept', 'transfer.decline']);
    expect(verbs('transfer requester pending')).toEqual(['transfer.withdraw', 'case.open']);
    expect(verbs('transfer other')).toEqual([]);
    expect(verbs('transfer accepted')).toEqual(['case.open']);
    expect(verbs('access decider pending')).toEqual(['access.grant', 'access.decline']);
    expect(verbs('access requester pending')).toEqual(['access.withdraw']);
    expect(verbs('access requester granted')).toEqual(['access.view']);
    expect(verbs('access requester ended')).toEqual([]);
    expect(text('access requester ended')).toContain('ended 3 Dec 2026, 09:00');
    expect(verbs('access declined')).toEqual([]);
    expect(verbs('access other')).toEqual([]);
    expect(verbs('grant (full)')).toEqual([]);
    expect(verbs('access find')).toEqual(['access.find', 'approvals.list']);
    expect(verbs('access form (by name)')).toEqual(['access.submit', 'approvals.list']);
  });

  it('show the decision inputs only to a decider of a pending request, and the form inputs on the forms', () => {
    expect(inputIds('transfer decider pending')).toEqual(['newOwner', 'note']);
    expect(inputIds('access decider pending')).toEqual(['note']);
    for (const name of ['transfer requester pending', 'transfer other', 'transfer accepted', 'access requester pending', 'access requester granted', 'access other', 'approvals', 'grant (full)']) {
      expect(inputIds(name), name).toEqual([]);
    }
    expect(inputIds('access find')).toEqual(['reference', 'lastName', 'dateOfBirth']);
    expect(inputIds('access form (by name)')).toEqual(['purpose', 'purposeDetail', 'justification', 'scopes', 'days']);
    expect(text('transfer decider pending')).toContain('This is required.');
    expect(text('access find')).toContain('Give the date of birth with the last name.');
  });

  it('show someone outside the request only its state, and a name search never the reference', () => {
    for (const secret of ['12 Orchard Row', 'Jo Bloggs', 'suddenly']) expect(text('transfer other'), secret).not.toContain(secret);
    for (const secret of ['siblings', 'Joint', 'Lidia']) expect(text('access other'), secret).not.toContain(secret);
    expect(text('access form (by name)')).not.toContain('PRV-');
    expect(text('access form (by reference)')).toContain('PRV-2026-000042');
    expect(text('access requester pending')).not.toContain('PRV-');
  });

  it('show a grant’s parts by scope, and escape what people typed', () => {
    const partial = text('grant (summary, vulnerabilities, contacts)');
    expect(partial).toContain('Consent and contacts');
    expect(partial).not.toContain('Case chronology');
    expect(partial).not.toContain('Saw');
    expect(text('grant (full)')).toContain('Case chronology');
    for (const name of names) {
      for (const raw of ['[away](http://x)', '*suddenly*', '[siblings](http://x)', 'Joint *work*', '*aboard*', '*owner*', 'Met at *school*', 'Nestor *Wilke*']) expect(text(name), `${name}: ${raw}`).not.toContain(raw);
    }
  });
});

describe('the catalogue and the approval forms agree', () => {
  it('has a label for every field and every choice of the transfer and access forms', () => {
    const missing: string[] = [];
    for (const step of [accessFindForm, accessRequestForm, transferDecisionForm, accessDecisionForm]) {
      for (const f of step.fields) {
        if (!isMessageKey(`field.${step.id}.${f.id}.label`)) missing.push(`field.${step.id}.${f.id}.label`);
        for (const c of f.choices ?? []) if (!isMessageKey(`choice.${f.choiceSet}.${c}`)) missing.push(`choice.${f.choiceSet}.${c}`);
      }
    }
    expect(missing).toEqual([]);
  });
});
