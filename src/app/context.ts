/** What every use-case is given: the database, the directory, the clock and the outbox signal. */
import type { Database } from '../db/client.js';
import type { Directory } from '../domain/directory.js';
import type { Logger } from 'pino';

export interface AppDeps {
  readonly db: Database;
  readonly directory: Directory;
  /** The clock; tests pass a fixed one. */
  readonly now: () => Date;
  readonly log: Logger;
  /** Called after a transaction that queued proactive messages has committed. */
  readonly messagesQueued: () => void;
  /** A pending transfer is escalated after this many working days (default 5). */
  readonly transferEscalationWorkingDays?: number;
}
