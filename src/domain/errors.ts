/**
 * Failures a user can cause. Each has a literal `code`; the bot maps the code
 * to a friendly card (never a stack trace).
 */
export type DomainErrorCode =
  | 'not_found'
  | 'forbidden'
  | 'training_expired'
  | 'unidentified'
  | 'invalid_input'
  | 'incomplete'
  | 'already_submitted'
  | 'conflict'
  | 'case_closed'
  | 'own_request'
  | 'invalid_year';

export class DomainError extends Error {
  constructor(
    readonly code: DomainErrorCode,
    message: string = code,
    /** Extra values for the user-facing message (ids, step names); never personal data. */
    readonly params: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const isDomainError = (e: unknown): e is DomainError => e instanceof DomainError;
