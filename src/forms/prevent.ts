/**
 * The Prevent referral form (DESIGN §2) as data. Labels, help text and choice
 * labels come from the message catalogue (`field.<step>.<field>`,
 * `choice.<set>.<value>`); this file holds structure and validation only.
 */
import type { PathwayDefinition } from '../domain/forms.js';

const yesNo = ['yes', 'no'] as const;
const score = ['0', '1', '2', '3'] as const;
const working = ['yes', 'partly', 'no', 'tooEarly'] as const;

/**
 * The officers' forms for the Prevent pathway (DESIGN §3). Vulnerability
 * factors follow the three dimensions of the Vulnerability Assessment
 * Framework (engagement, intent, capability).
 */
const preventCaseForms: PathwayDefinition['caseForms'] = {
  triage: {
    id: 'triage',
    fields: [
      { id: 'outcome', kind: 'choice', required: true, choiceSet: 'triageOutcome', choices: ['no_further_action', 'signposted', 'channel', 'police_led', 'ct_policing'] },
      { id: 'signpostedTo', kind: 'text', maxLength: 200, requiredWhen: { field: 'outcome', in: ['signposted'] } },
      { id: 'rationale', kind: 'textarea', required: true, maxLength: 4000 },
      { id: 'contactMade', kind: 'choice', required: true, choiceSet: 'yesNo', choices: yesNo },
    ],
  },
  consent: {
    id: 'consent',
    fields: [
      { id: 'status', kind: 'choice', required: true, choiceSet: 'consentStatus', choices: ['notSought', 'sought', 'given', 'refused', 'withdrawn'] },
      { id: 'decidedOn', kind: 'date', required: true, notFuture: true },
      { id: 'givenBy', kind: 'choice', choiceSet: 'consentBy', choices: ['person', 'parentCarer'], requiredWhenPersonUnder: 18 },
      { id: 'parentCarerName', kind: 'text', maxLength: 120, requiredWhen: { field: 'givenBy', in: ['parentCarer'] } },
      { id: 'note', kind: 'textarea', maxLength: 2000 },
    ],
  },
  vulnerability: {
    id: 'vulnerability',
    fields: [
      { id: 'assessedOn', kind: 'date', required: true, notFuture: true },
      { id: 'engagement', kind: 'choice', required: true, choiceSet: 'score', choices: score },
      {
        id: 'engagementFactors',
        kind: 'multichoice',
        choiceSet: 'engagementFactor',
        choices: ['injustice', 'identity', 'status', 'excitement', 'dominance', 'indoctrination', 'politicalMoral', 'opportunistic', 'familyFriends', 'transitional', 'groupInfluence', 'mentalHealth'],
      },
      { id: 'intent', kind: 'choice', required: true, choiceSet: 'score', choices: score },
      {
        id: 'intentFactors',
        kind: 'multichoice',
        choiceSet: 'intentFactor',
        choices: ['overIdentification', 'usAndThem', 'dehumanisation', 'attitudesJustifyingOffending', 'harmfulMeans', 'harmfulObjectives'],
      },
      { id: 'capability', kind: 'choice', required: true, choiceSet: 'score', choices: score },
      { id: 'capabilityFactors', kind: 'multichoice', choiceSet: 'capabilityFactor', choices: ['knowledgeSkills', 'accessNetworks', 'criminalHistory'] },
      { id: 'notes', kind: 'textarea', maxLength: 4000 },
    ],
  },
  intervention: {
    id: 'intervention',
    rules: [{ kind: 'dateOrder', fields: ['startOn', 'endOn'], messageKey: 'error.field.endBeforeStart' }],
    fields: [
      {
        id: 'type',
        kind: 'choice',
        required: true,
        choiceSet: 'interventionType',
        choices: ['mentoring', 'mentalHealth', 'educationTraining', 'employment', 'housing', 'familySupport', 'diversion', 'other'],
      },
      { id: 'provider', kind: 'text', required: true, maxLength: 200 },
      { id: 'startOn', kind: 'date', required: true },
      { id: 'endOn', kind: 'date' },
      { id: 'working', kind: 'choice', required: true, choiceSet: 'working', choices: working },
      { id: 'note', kind: 'textarea', maxLength: 2000 },
    ],
  },
  interventionReview: {
    id: 'interventionReview',
    fields: [
      { id: 'working', kind: 'choice', required: true, choiceSet: 'working', choices: working },
      { id: 'endOn', kind: 'date' },
      { id: 'note', kind: 'textarea', required: true, maxLength: 2000 },
    ],
  },
  action: {
    id: 'action',
    fields: [
      { id: 'title', kind: 'text', required: true, maxLength: 200 },
      { id: 'owner', kind: 'choice', required: true, dynamicChoices: 'officers' },
      { id: 'dueOn', kind: 'date', required: true, notPast: true },
    ],
  },
  actionComplete: { id: 'actionComplete', fields: [{ id: 'note', kind: 'textarea', required: true, maxLength: 2000 }] },
  actionReassign: {
    id: 'actionReassign',
    fields: [
      { id: 'owner', kind: 'choice', required: true, dynamicChoices: 'officers' },
      { id: 'note', kind: 'textarea', maxLength: 2000 },
    ],
  },
  note: { id: 'note', fields: [{ id: 'text', kind: 'textarea', required: true, maxLength: 4000 }] },
  close: {
    id: 'close',
    fields: [
      {
        id: 'reason',
        kind: 'choice',
        required: true,
        choiceSet: 'closeReason',
        choices: ['riskReduced', 'supportCompleted', 'notAdopted', 'consentRefused', 'movedAway', 'other'],
      },
      { id: 'note', kind: 'textarea', required: true, maxLength: 4000 },
    ],
  },
  /** Contact with the person, recorded when it is made (the triage says whether it had been by then). */
  contact: {
    id: 'contact',
    fields: [
      { id: 'madeOn', kind: 'date', required: true, notFuture: true },
      { id: 'method', kind: 'choice', required: true, choiceSet: 'contactMethod', choices: ['inPerson', 'phone', 'video', 'viaProfessional', 'other'] },
      { id: 'note', kind: 'textarea', maxLength: 2000 },
    ],
  },
  /** Channel cases: the panel's decision (adopted as a Channel case or not); the latest one stands. */
  panel: {
    id: 'panel',
    fields: [
      { id: 'decision', kind: 'choice', required: true, choiceSet: 'panelDecision', choices: ['adopted', 'notAdopted'] },
      { id: 'decidedOn', kind: 'date', required: true, notFuture: true },
      { id: 'note', kind: 'textarea', maxLength: 2000 },
    ],
  },
  /** The person moved: ask the receiving area's supervisors to take the case (DESIGN §5). */
  transfer: {
    id: 'transfer',
    fields: [
      { id: 'toArea', kind: 'choice', required: true, dynamicChoices: 'otherAreas' },
      { id: 'reason', kind: 'textarea', required: true, maxLength: 2000 },
      { id: 'newAddress', kind: 'textarea', required: true, maxLength: 500 },
    ],
  },
  /** Shown below the corrected entry's own form: why the record is being corrected. */
  correction: { id: 'correction', fields: [{ id: 'correctionReason', kind: 'textarea', required: true, maxLength: 1000 }] },
};

export const preventPathway: PathwayDefinition = {
  id: 'prevent',
  referencePrefix: 'PRV',
  areaField: { step: 'aboutPerson', field: 'area' },
  ageFields: { step: 'aboutPerson', dateOfBirth: 'dateOfBirth', approximateAge: 'approximateAge' },
  referrerNameField: { step: 'aboutYou', field: 'referrerName' },
  personNameFields: { step: 'aboutPerson', first: 'firstName', last: 'lastName' },
  triageWorkingDays: 5,
  // Closed with no further action: 3 years after closure (the 2023 Independent Review of Prevent); else 6 after the last activity.
  retention: { noFurtherActionYears: 3, otherYears: 6, childUnder: 10, maxRetainYears: 2 },
  channelReviewMonths: [6, 12],
  caseForms: preventCaseForms,
  statisticsFields: {
    sector: { step: 'aboutYou', field: 'sector' },
    concernType: { step: 'concern', field: 'concernType' },
    gender: { step: 'aboutPerson', field: 'gender' },
    outcome: { form: 'triage', field: 'outcome' },
    adopted: { form: 'panel', field: 'decision', value: 'adopted', outcome: 'channel' },
  },
  steps: [
    {
      id: 'danger',
      dangerField: 'immediateDanger',
      fields: [{ id: 'immediateDanger', kind: 'choice', choiceSet: 'yesNo', choices: yesNo, required: true }],
    },
    {
      id: 'aboutYou',
      fields: [
        { id: 'referrerName', kind: 'text', required: true, maxLength: 120, prefill: 'actorName' },
        { id: 'jobTitle', kind: 'text', required: true, maxLength: 120 },
        { id: 'organisation', kind: 'text', required: true, maxLength: 200 },
        {
          id: 'sector',
          kind: 'choice',
          required: true,
          choiceSet: 'sector',
          choices: ['education', 'health', 'localAuthority', 'socialCare', 'police', 'communityFaith', 'familyFriend', 'other'],
        },
        { id: 'phone', kind: 'text', required: true, pattern: 'phone', maxLength: 20 },
        { id: 'relationship', kind: 'text', required: true, maxLength: 200 },
      ],
    },
    {
      id: 'aboutPerson',
      rules: [{ kind: 'atLeastOne', fields: ['dateOfBirth', 'approximateAge'], messageKey: 'error.person.ageNeeded' }],
      fields: [
        { id: 'firstName', kind: 'text', required: true, maxLength: 100 },
        { id: 'lastName', kind: 'text', required: true, maxLength: 100 },
        { id: 'dateOfBirth', kind: 'date', notFuture: true },
        { id: 'approximateAge', kind: 'number', min: 0, max: 120 },
        { id: 'gender', kind: 'choice', required: true, choiceSet: 'gender', choices: ['female', 'male', 'other', 'notKnown'] },
        { id: 'address', kind: 'textarea', required: true, maxLength: 500 },
        { id: 'postcode', kind: 'text', pattern: 'ukPostcode', maxLength: 8 },
        { id: 'area', kind: 'choice', required: true, dynamicChoices: 'areas' },
        { id: 'schoolOrEmployer', kind: 'text', maxLength: 200 },
        { id: 'firstLanguage', kind: 'text', maxLength: 60 },
        { id: 'interpreterNeeded', kind: 'choice', choiceSet: 'yesNo', choices: yesNo },
      ],
    },
    {
      id: 'concern',
      fields: [
        { id: 'whatSeenOrHeard', kind: 'textarea', required: true, maxLength: 4000 },
        { id: 'whenAndWhere', kind: 'textarea', required: true, maxLength: 1000 },
        {
          id: 'concernType',
          kind: 'choice',
          required: true,
          choiceSet: 'concernType',
          choices: [
            'islamist',
            'extremeRightWing',
            'leftWingAnarchistSingleIssue',
            'conflicted',
            'noIdeologyOrCtRisk',
            'schoolMassacre',
            'incel',
            'otherUnclear',
          ],
        },
        {
          id: 'behaviours',
          kind: 'multichoice',
          choiceSet: 'behaviour',
          choices: [
            'extremistViews',
            'extremistMaterial',
            'changeInBehaviour',
            'withdrawal',
            'justifyingViolence',
            'interestInWeapons',
            'extremistAssociates',
            'other',
          ],
        },
        { id: 'onlineActivity', kind: 'textarea', maxLength: 2000 },
        {
          id: 'vulnerabilities',
          kind: 'multichoice',
          choiceSet: 'vulnerability',
          choices: ['autismOrSen', 'mentalHealth', 'drugsOrAlcohol', 'familyIssues', 'isolation', 'grievance', 'other'],
        },
        { id: 'contactsOfConcern', kind: 'textarea', maxLength: 2000 },
        { id: 'threatsOfViolence', kind: 'choice', required: true, choiceSet: 'yesNoUnknown', choices: ['yes', 'no', 'unknown'] },
        { id: 'discussionsHeld', kind: 'textarea', maxLength: 2000 },
        {
          id: 'parentsSupport',
          kind: 'choice',
          choiceSet: 'parentsSupport',
          choices: ['yes', 'no', 'notAsked', 'notApplicable'],
        },
      ],
    },
    {
      id: 'consent',
      fields: [
        { id: 'personAware', kind: 'choice', required: true, choiceSet: 'yesNo', choices: yesNo },
        { id: 'personConsented', kind: 'choice', required: true, choiceSet: 'consent', choices: ['yes', 'no', 'notAsked'] },
        { id: 'parentsAware', kind: 'choice', choiceSet: 'yesNo', choices: yesNo, requiredWhenPersonUnder: 18 },
        {
          id: 'otherAgencies',
          kind: 'multichoice',
          choiceSet: 'agency',
          choices: ['childrensSocialCare', 'camhs', 'adultServices', 'probation', 'youthJustice', 'police', 'health', 'other'],
        },
        { id: 'agencyDetails', kind: 'textarea', maxLength: 1000 },
      ],
    },
    {
      id: 'review',
      review: true,
      fields: [{ id: 'declaration', kind: 'toggle', required: true }],
    },
  ],
};

/** Pathways by id; Prevent is the first. */
export const pathways: Readonly<Record<string, PathwayDefinition>> = { prevent: preventPathway };
