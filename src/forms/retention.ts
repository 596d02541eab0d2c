/**
 * The forms of a retention review (DESIGN §7) as data, shared by every
 * pathway. Labels come from the catalogue (`field.<form>.<field>`).
 */
import type { StepDefinition } from '../domain/forms.js';

/** Keep the record: why, until when (at most the policy's limit), and for a young child why that too. */
export const retainForm: StepDefinition = {
  id: 'retain',
  fields: [
    { id: 'justification', kind: 'textarea', required: true, maxLength: 2000 },
    { id: 'nextReviewOn', kind: 'date', required: true, notPast: true },
    // Required by the use-case when the person is under the policy's age.
    { id: 'childJustification', kind: 'textarea', maxLength: 2000 },
  ],
};

/** Ask a supervisor to delete the record. */
export const proposeDeletionForm: StepDefinition = {
  id: 'proposeDeletion',
  fields: [{ id: 'reason', kind: 'textarea', required: true, maxLength: 2000 }],
};

/** On the deletion approval card: a note, needed to decline. */
export const deletionDecisionForm: StepDefinition = {
  id: 'deletionDecision',
  neededPerButton: true,
  fields: [{ id: 'note', kind: 'textarea', maxLength: 1000 }],
};
