/**
 * The forms of transfers and access requests (DESIGN §5, §6) as data, shared
 * by every pathway. Labels come from the catalogue (`field.<form>.<field>`).
 */
import { accessPurposes, accessScopes, MAX_GRANT_DAYS } from '../domain/approvals.js';
import type { StepDefinition } from '../domain/forms.js';

/** Finding the record: by reference, or by last name and date of birth. */
export const accessFindForm: StepDefinition = {
  id: 'accessFind',
  rules: [{ kind: 'atLeastOne', fields: ['reference', 'lastName'], messageKey: 'error.access.findNeeded' }],
  fields: [
    { id: 'reference', kind: 'text', maxLength: 20 },
    { id: 'lastName', kind: 'text', maxLength: 100 },
    // Needed with a last name; checked by the use-case (a field rule cannot say "required when any value").
    { id: 'dateOfBirth', kind: 'date', notFuture: true },
  ],
};

/** What is asked for, why, and for how long. */
export const accessRequestForm: StepDefinition = {
  id: 'accessRequest',
  fields: [
    { id: 'purpose', kind: 'choice', required: true, choiceSet: 'accessPurpose', choices: accessPurposes },
    { id: 'purposeDetail', kind: 'textarea', maxLength: 1000, requiredWhen: { field: 'purpose', in: ['other'] } },
    { id: 'justification', kind: 'textarea', required: true, maxLength: 2000 },
    { id: 'scopes', kind: 'multichoice', required: true, choiceSet: 'accessScope', choices: accessScopes },
    { id: 'days', kind: 'number', required: true, min: 1, max: MAX_GRANT_DAYS },
  ],
};

/** On a transfer's approval card: who takes the case, and a note (required to decline). */
export const transferDecisionForm: StepDefinition = {
  id: 'transferDecision',
  neededPerButton: true,
  fields: [
    { id: 'newOwner', kind: 'choice', dynamicChoices: 'newOwner' },
    { id: 'note', kind: 'textarea', maxLength: 1000 },
  ],
};

/** On an access request's approval card: a note (required to decline). */
export const accessDecisionForm: StepDefinition = {
  id: 'accessDecision',
  neededPerButton: true,
  fields: [{ id: 'note', kind: 'textarea', maxLength: 1000 }],
};
