/**
 * `npm run audit:verify`: walks the audit hash chain and exits non-zero when
 * it is broken. Uses DATABASE_URL, or the embedded database in DATA_DIR (stop
 * the bot first: an embedded database has one user at a time).
 */
import { openDatabase } from '../src/db/client.js';
import { verifyAuditChain } from '../src/app/audit.js';
import { resolve } from 'node:path';

const databaseUrl = process.env.DATABASE_URL || undefined;
const pgliteDataDir = process.env.PGLITE_DATA_DIR ?? resolve(process.env.DATA_DIR ?? '.data', 'pglite');
const handle = await openDatabase({ databaseUrl, pgliteDataDir, poolSize: 1 });
try {
  const report = await verifyAuditChain(handle.db);
  if (report.problem) {
    console.error(`audit chain BROKEN at entry ${report.problem.seq}: ${report.problem.problem} (${report.entries} entries before it verified)`);
    process.exitCode = 1;
  } else {
    console.log(`audit chain OK: ${report.entries} entries verified`);
  }
} finally {
  await handle.close();
}
