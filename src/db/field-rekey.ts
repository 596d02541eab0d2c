/**
 * Key rotation (`npm run keys:rotate`): every sealed value not under the
 * current key is opened and sealed again under it, and narrative text
 * written before encryption existed is sealed. Table by table, in batches
 * of rows in primary-key order; each batch that changes anything is one
 * transaction (its rows locked, re-read and written, and an audit entry).
 * A second run finds nothing to do; a run stopped halfway (or failing on a
 * value whose key is missing) is simply run again.
 *
 * The chronology and the gateway assessments refuse UPDATE (a trigger): a
 * batch that re-seals them switches that trigger off inside its own
 * transaction, under the table lock that ALTER TABLE takes, so no other
 * session can update meanwhile, and switches it on again before commit.
 * The content is unchanged; only its sealed form is.
 */
import { sql, type SQL } from 'drizzle-orm';
import { executeRows, type Database, type DatabaseOrTransaction } from './client.js';
import { appendAudit } from './repositories/audit.js';
import { fieldCipher, isEncrypted } from './field-crypto.js';
import { contexts, encryptedAnswerColumns, encryptedTextColumns, narrativeOf, resealValue } from './narrative-fields.js';

/** What one table's pass did. */
export interface RekeyCounts {
  readonly table: string;
  /** Rows read. */
  scanned: number;
  /** Rows written. */
  rowsChanged: number;
  /** Values sealed under an older key, now under the current one. */
  resealed: number;
  /** Narrative values that were stored plain (written before encryption), now sealed. */
  sealed: number;
}

export interface RekeyOptions {
  /** Rows per batch (default 500). */
  readonly batchSize?: number;
  /** Called after each batch with the table's running counts. */
  readonly onProgress?: (counts: Readonly<RekeyCounts>) => void;
  readonly now?: () => Date;
}

interface TablePlan {
  readonly table: string;
  readonly appendOnlyTrigger?: string;
  /** Text columns sealed whole: column → context. */
  readonly textColumns: ReadonlyArray<{ column: string; context: string }>;
  /** jsonb columns of answers or entry data. */
  readonly jsonColumns: ReadonlyArray<{ column: string; shape: 'answers' | 'entry' }>;
  /** Extra columns the jsonb shapes need: a referral's or draft's pathway, an entry's kind. */
  readonly extra: readonly string[];
}

function plans(): TablePlan[] {
  const byTable = new Map<string, { appendOnlyTrigger?: string; textColumns: Array<{ column: string; context: string }>; jsonColumns: Array<{ column: string; shape: 'answers' | 'entry' }>; extra: Set<string> }>();
  const get = (table: string, trigger?: string) => {
    let p = byTable.get(table);
    if (!p) byTable.set(table, (p = { textColumns: [], jsonColumns: [], extra: new Set() }));
    if (trigger) p.appendOnlyTrigger = trigger;
    return p;
  };
  for (const c of encryptedTextColumns) get(c.table, 'appendOnlyTrigger' in c ? c.appendOnlyTrigger : undefined).textColumns.push({ column: c.column, context: c.place });
  for (const c of encryptedAnswerColumns) {
    const p = get(c.table, 'appendOnlyTrigger' in c ? c.appendOnlyTrigger : undefined);
    p.jsonColumns.push({ column: c.column, shape: c.shape });
    p.extra.add(c.shape === 'answers' ? 'pathway' : 'kind');
  }
  return [...byTable].map(([table, p]) => ({ table, appendOnlyTrigger: p.appendOnlyTrigger, textColumns: p.textColumns, jsonColumns: p.jsonColumns, extra: [...p.extra] }));
}

const ident = (name: string): SQL => {
  // Names come from our own registry, never from input; still, only plain identifiers pass.
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a plain identifier: ${name}`);
  return sql.raw(`"${name}"`);
};

type Row = Record<string, unknown> & { id: string };

/** The new values of one row's sealed columns (only those that change), and what changed. */
function rekeyRow(plan: TablePlan, row: Row): { set: Record<string, unknown>; resealed: number; sealed: number } {
  const set: Record<string, unknown> = {};
  let resealed = 0;
  let sealed = 0;
  const step = (value: unknown, context: string, narrative: boolean): unknown => {
    const next = resealValue(value, context, narrative);
    if (next === undefined) return value;
    if (isEncrypted(value)) resealed += 1;
    else sealed += 1;
    return next;
  };
  for (const { column, context } of plan.textColumns) {
    const before = row[column];
    const after = step(before, context, true);
    if (after !== before) set[column] = after;
  }
  for (const { column, shape } of plan.jsonColumns) {
    const stored = row[column];
    if (!stored || typeof stored !== 'object') continue;
    let changed = false;
    const place = `${plan.table}.${column}`;
    if (shape === 'answers') {
      const out: Record<string, unknown> = {};
      for (const [stepId, values] of Object.entries(stored as Record<string, unknown>)) {
        if (!values || typeof values !== 'object') {
          out[stepId] = values;
          continue;
        }
        const narrative = narrativeOf.step(String(row.pathway), stepId);
        const fields: Record<string, unknown> = {};
        for (const [field, value] of Object.entries(values as Record<string, unknown>)) {
          fields[field] = step(value, contexts.answer(place, stepId, field), narrative.has(field));
          if (fields[field] !== value) changed = true;
        }
        out[stepId] = fields;
      }
      if (changed) set[column] = out;
    } else {
      const narrative = narrativeOf.entry(String(row.kind));
      const out: Record<string, unknown> = {};
      for (const [field, value] of Object.entries(stored as Record<string, unknown>)) {
        out[field] = step(value, contexts.entry(field), narrative.has(field));
        if (out[field] !== value) changed = true;
      }
      if (changed) set[column] = out;
    }
  }
  return { set, resealed, sealed };
}

async function readBatch(db: DatabaseOrTransaction, plan: TablePlan, where: SQL, limit: number, lock: boolean): Promise<Row[]> {
  const columns = ['id', ...plan.textColumns.map((c) => c.column), ...plan.jsonColumns.map((c) => c.column), ...plan.extra];
  return executeRows<Row>(
    db,
    sql`select ${sql.join(columns.map((c) => (c === 'id' ? sql.raw('"id"::text as "id"') : ident(c))), sql`, `)}
        from ${ident(plan.table)} where ${where} order by "id" limit ${limit}${lock ? sql` for update` : sql``}`,
  );
}

async function writeRow(db: DatabaseOrTransaction, plan: TablePlan, id: string, set: Record<string, unknown>): Promise<void> {
  const assignments = Object.entries(set).map(([column, value]) => {
    const json = plan.jsonColumns.some((c) => c.column === column);
    return json ? sql`${ident(column)} = ${JSON.stringify(value)}::jsonb` : sql`${ident(column)} = ${value as string | null}`;
  });
  await db.execute(sql`update ${ident(plan.table)} set ${sql.join(assignments, sql`, `)} where "id" = ${id}::uuid`);
}

/**
 * Re-seals every sealed value not under the installed cipher's current key,
 * and seals narrative text stored plain. Throws (after committing the
 * batches before it) on a value whose key is not in the ring.
 */
export async function rotateFieldKeys(db: Database, o: RekeyOptions = {}): Promise<RekeyCounts[]> {
  const batchSize = o.batchSize ?? 500;
  const now = o.now ?? (() => new Date());
  const keyId = fieldCipher().currentKeyId;
  const report: RekeyCounts[] = [];
  for (const plan of plans()) {
    const counts: RekeyCounts = { table: plan.table, scanned: 0, rowsChanged: 0, resealed: 0, sealed: 0 };
    report.push(counts);
    let after = '00000000-0000-0000-0000-000000000000';
    for (;;) {
      // A first read without locks: a batch with nothing to change costs no transaction and no table lock.
      const rows = await readBatch(db, plan, sql`"id" > ${after}::uuid`, batchSize, false);
      if (rows.length === 0) break;
      counts.scanned += rows.length;
      const last = rows[rows.length - 1]!.id;
      const stale = rows.filter((r) => Object.keys(rekeyRow(plan, r).set).length > 0).map((r) => r.id);
      if (stale.length > 0) {
        const done = await db.transaction(async (tx) => {
          if (plan.appendOnlyTrigger) await tx.execute(sql`alter table ${ident(plan.table)} disable trigger ${ident(plan.appendOnlyTrigger)}`);
          // Locked and read again: a value changed since the first read is re-sealed as it is now.
          const locked = await readBatch(tx, plan, sql`"id" = any(${`{${stale.join(',')}}`}::uuid[])`, stale.length, true);
          let changed = 0;
          let resealed = 0;
          let sealed = 0;
          for (const row of locked) {
            const r = rekeyRow(plan, row);
            if (Object.keys(r.set).length === 0) continue;
            await writeRow(tx, plan, row.id, r.set);
            changed += 1;
            resealed += r.resealed;
            sealed += r.sealed;
          }
          if (plan.appendOnlyTrigger) await tx.execute(sql`alter table ${ident(plan.table)} enable trigger ${ident(plan.appendOnlyTrigger)}`);
          if (changed > 0) await appendAudit(tx, now(), [{ actorAadObjectId: 'system:keys-rotate', action: 'fields.reseal', entityType: plan.table, entityId: keyId }]);
          return { changed, resealed, sealed };
        });
        counts.rowsChanged += done.changed;
        counts.resealed += done.resealed;
        counts.sealed += done.sealed;
      }
      o.onProgress?.(counts);
      after = last;
      if (rows.length < batchSize) break;
    }
  }
  return report;
}
