/**
 * `npm run keys:rotate`: re-seals every encrypted value not under the current
 * field-encryption key (FIELD_ENCRYPTION_CURRENT_KEY_ID), and seals narrative
 * text stored before encryption existed. Batches, each its own transaction;
 * safe to stop and run again. Keep the old key in FIELD_ENCRYPTION_KEYS until
 * this has finished; after it, the old key can go.
 *
 * Uses DATABASE_URL, or the embedded database in DATA_DIR (stop the bot
 * first: an embedded database has one user at a time). Without
 * FIELD_ENCRYPTION_KEYS (never in production) it uses the local key file in
 * DATA_DIR. `--batch N` sets the rows per batch (500).
 */
import { resolve } from 'node:path';
import { ConfigError, loadFieldKeys } from '../src/config.js';
import { openDatabase } from '../src/db/client.js';
import { cipherFromSource, installFieldCipher } from '../src/db/field-crypto.js';
import { rotateFieldKeys } from '../src/db/field-rekey.js';

const args = process.argv.slice(2);
let batchSize = 500;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--batch' && /^\d{1,6}$/.test(args[i + 1] ?? '') && Number(args[i + 1]) > 0) batchSize = Number(args[++i]);
  else {
    console.error(`unknown option ${args[i]}; usage: npm run keys:rotate [-- --batch N]`);
    process.exit(2);
  }
}

let keys;
try {
  const source = loadFieldKeys(process.env);
  if (source.source === 'localFile') console.log(`FIELD_ENCRYPTION_KEYS not set: using the local key file ${source.path}`);
  keys = cipherFromSource(source);
} catch (err) {
  console.error(`keys:rotate: ${err instanceof ConfigError ? 'configuration problem: ' : ''}${(err as Error).message}`);
  process.exit(1);
}
installFieldCipher(keys.cipher);
console.log(`current key: ${keys.cipher.currentKeyId}; keys in the ring: ${keys.cipher.keyIds.join(', ')}; ${batchSize} rows per batch`);

const databaseUrl = process.env.DATABASE_URL || undefined;
const pgliteDataDir = process.env.PGLITE_DATA_DIR ?? resolve(process.env.DATA_DIR ?? '.data', 'pglite');
const handle = await openDatabase({ databaseUrl, pgliteDataDir, poolSize: 1 });
try {
  const report = await rotateFieldKeys(handle.db, {
    batchSize,
    onProgress: (c) => {
      if (c.scanned % (batchSize * 20) === 0) console.log(`  ${c.table}: ${c.scanned} rows read so far`);
    },
  });
  let changed = 0;
  for (const c of report) {
    changed += c.rowsChanged;
    console.log(`${c.table}: ${c.scanned} rows read, ${c.rowsChanged} rewritten (${c.resealed} values re-encrypted from an older key, ${c.sealed} plain values encrypted)`);
  }
  console.log(changed === 0 ? `nothing to do: every value is under key ${keys.cipher.currentKeyId}` : `done: every value is now under key ${keys.cipher.currentKeyId}`);
} catch (err) {
  // A FieldDecryptionError names the key id and the place, never the value. Batches before it are kept.
  console.error(`keys:rotate stopped: ${(err as Error).message}`);
  console.error('Batches before this one are saved; fix the problem and run it again to carry on.');
  process.exitCode = 1;
} finally {
  await handle.close();
}
