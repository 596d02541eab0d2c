/** The audit log table: append under a lock (so the chain never forks) and read in order for verification. */
import { asc, gt, sql } from 'drizzle-orm';
import { PgTransaction } from 'drizzle-orm/pg-core';
import { executeRows, type DatabaseOrTransaction } from '../client.js';
import { auditLog } from '../schema.js';
import { GENESIS_HASH, auditHash, type AuditEntry } from '../../domain/audit.js';

export interface NewAuditEntry {
  readonly actorAadObjectId: string;
  readonly action: string;
  readonly entityType: string;
  readonly entityId: string;
  readonly purpose?: string | null;
}

// Serialises appends across every instance; released when the transaction ends.
const AUDIT_LOCK_ID = 7_246_002;

/**
 * Appends entries to the chain, in the caller's transaction when given one
 * (so they commit or roll back with the change they record), else in a
 * transaction of their own. The chain lock is held from here to commit: call
 * this last in a transaction, so the lock is held for as short a time as possible.
 */
export async function appendAudit(db: DatabaseOrTransaction, at: Date, entries: readonly NewAuditEntry[]): Promise<void> {
  if (entries.length === 0) return;
  if (db instanceof PgTransaction) return appendInTransaction(db, [{ at, entries }]);
  await groupCommitter(db).append(at, entries);
}

interface Pending {
  readonly at: Date;
  readonly entries: readonly NewAuditEntry[];
}

/**
 * Group commit for appends made outside a transaction (views, refusals):
 * while one batch is being written, the appends that arrive wait and go
 * together in the next one: one lock, one insert, one commit for all of them.
 * Every caller still returns only after its entries are committed. Under
 * load this turns a queue of transactions waiting on the chain lock into a
 * few larger ones.
 */
class GroupCommitter {
  private waiting: Array<{ item: Pending; done: (err?: unknown) => void }> = [];
  private writing: Promise<void> | undefined;

  constructor(private readonly db: DatabaseOrTransaction) {}

  append(at: Date, entries: readonly NewAuditEntry[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ item: { at, entries }, done: (err) => (err === undefined ? resolve() : reject(err)) });
      if (!this.writing) this.writing = this.flush();
    });
  }

  private async flush(): Promise<void> {
    while (this.waiting.length > 0) {
      const batch = this.waiting;
      this.waiting = [];
      try {
        await this.db.transaction((tx) => appendInTransaction(tx, batch.map((b) => b.item)));
        for (const b of batch) b.done();
      } catch (err) {
        for (const b of batch) b.done(err);
      }
    }
    this.writing = undefined;
  }
}

const committers = new WeakMap<object, GroupCommitter>();
function groupCommitter(db: DatabaseOrTransaction): GroupCommitter {
  let c = committers.get(db);
  if (!c) {
    c = new GroupCommitter(db);
    committers.set(db, c);
  }
  return c;
}

/**
 * One round trip takes the chain lock and reads the last link (the function
 * audit_chain_head, migrations/0012): the read runs after the lock is granted,
 * so it sees every link committed before.
 */
async function appendInTransaction(tx: DatabaseOrTransaction, items: readonly Pending[]): Promise<void> {
  const [last] = await executeRows<{ seq: string | number | bigint; hash: string }>(tx, sql`select seq, hash from audit_chain_head(${AUDIT_LOCK_ID})`);
  let seq = last ? Number(last.seq) : 0;
  let prevHash = last?.hash ?? GENESIS_HASH;
  const rows = items.flatMap(({ at, entries }) =>
    entries.map((e) => {
      seq += 1;
      const fields = { seq, at, actorAadObjectId: e.actorAadObjectId, action: e.action, entityType: e.entityType, entityId: e.entityId, purpose: e.purpose ?? null };
      const hash = auditHash(prevHash, fields);
      const row = { ...fields, prevHash, hash };
      prevHash = hash;
      return row;
    }),
  );
  await tx.insert(auditLog).values(rows);
}

/** Reads entries after `afterSeq` in order, a page at a time. */
export async function readAuditPage(db: DatabaseOrTransaction, afterSeq: number, limit: number): Promise<AuditEntry[]> {
  return db.select().from(auditLog).where(gt(auditLog.seq, afterSeq)).orderBy(asc(auditLog.seq)).limit(limit);
}
