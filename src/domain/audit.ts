/**
 * The audit chain (DESIGN §8): each entry holds the hash of the one before,
 * so changing, removing or reordering any entry breaks every hash after it.
 * Entries hold ids and event kinds, never free text about the person.
 */
import { createHash } from 'node:crypto';

export const GENESIS_HASH = '0'.repeat(64);

export interface AuditEntryFields {
  readonly seq: number;
  readonly at: Date;
  readonly actorAadObjectId: string;
  readonly action: string;
  readonly entityType: string;
  readonly entityId: string;
  readonly purpose: string | null;
}

export interface AuditEntry extends AuditEntryFields {
  readonly prevHash: string;
  readonly hash: string;
}

/** The hash of an entry given its predecessor's hash. Field order is fixed; JSON escapes separators. */
export function auditHash(prevHash: string, e: AuditEntryFields): string {
  const canonical = JSON.stringify([prevHash, e.seq, e.at.toISOString(), e.actorAadObjectId, e.action, e.entityType, e.entityId, e.purpose]);
  return createHash('sha256').update(canonical).digest('hex');
}

export type ChainProblem = { readonly seq: number; readonly problem: 'gap' | 'prev_hash' | 'hash' };

/**
 * Checks a run of entries in `seq` order, continuing from `prev` (the entry
 * before the run, or none for the start). Returns the first problem found.
 */
export function verifyChain(entries: Iterable<AuditEntry>, prev?: { seq: number; hash: string }): ChainProblem | undefined {
  let lastSeq = prev?.seq ?? 0;
  let lastHash = prev?.hash ?? GENESIS_HASH;
  for (const e of entries) {
    if (e.seq !== lastSeq + 1) return { seq: e.seq, problem: 'gap' };
    if (e.prevHash !== lastHash) return { seq: e.seq, problem: 'prev_hash' };
    if (auditHash(e.prevHash, e) !== e.hash) return { seq: e.seq, problem: 'hash' };
    lastSeq = e.seq;
    lastHash = e.hash;
  }
  return undefined;
}
