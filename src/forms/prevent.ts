/**
 * The Prevent referral form (DESIGN §2) as data. Labels, help text and choice
 * labels come from the message catalogue (`field.<step>.<field>`,
 * `choice.<set>.<value>`); this file holds structure and validation only.
 */
import type { PathwayDefinition } from '../domain/forms.js';

const yesNo = ['yes', 'no'] as const;

export const preventPathway: PathwayDefinition = {
  id: 'prevent',
  referencePrefix: 'PRV',
  areaField: { step: 'aboutPerson', field: 'area' },
  ageFields: { step: 'aboutPerson', dateOfBirth: 'dateOfBirth', approximateAge: 'approximateAge' },
  referrerNameField: { step: 'aboutYou', field: 'referrerName' },
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
