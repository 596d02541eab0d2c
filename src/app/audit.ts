/** Verifying the audit chain end to end (`npm run audit:verify`). */
import type { DatabaseOrTransaction } from '../db/client.js';
import { readAuditPage } from '../db/repositories/audit.js';
import { verifyChain, type ChainProblem } from '../domain/audit.js';

export interface ChainReport {
  readonly entries: number;
  readonly problem?: ChainProblem;
}

/** Walks the whole chain a page at a time; stops at the first broken link. */
export async function verifyAuditChain(db: DatabaseOrTransaction, pageSize = 5000): Promise<ChainReport> {
  let prev: { seq: number; hash: string } | undefined;
  let count = 0;
  for (;;) {
    const page = await readAuditPage(db, prev?.seq ?? 0, pageSize);
    if (page.length === 0) return { entries: count };
    const problem = verifyChain(page, prev);
    if (problem) return { entries: count, problem };
    count += page.length;
    const last = page[page.length - 1]!;
    prev = { seq: last.seq, hash: last.hash };
  }
}
