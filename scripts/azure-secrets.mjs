#!/usr/bin/env node
// Makes the secrets an Azure environment needs, once (docs/deploy.md):
//
//   SECRET_POSTGRES_ADMIN_PASSWORD         the PostgreSQL administrator's password
//   SECRET_FIELD_ENCRYPTION_KEYS_BASE64    base64 of {"<key id>": "<base64 of 32 random bytes>"} (FIELD_ENCRYPTION_KEYS)
//   FIELD_ENCRYPTION_CURRENT_KEY_ID        the key id in that map that encrypts new data
//   SECRET_DOWNLOAD_LINK_SECRET            signs download links (DOWNLOAD_LINK_SECRET)
//
// Run by the provision stage of m365agents.yml before arm/deploy: for each one
// not already in the environment it prints `::set-teamsfx-env NAME=value`, which
// the toolkit keeps (SECRET_* in env/.env.<environment>.user, git-ignored) and
// passes to infra/main.parameters.json. A value already set is never replaced:
// changing the field-encryption keys is a rotation (docs/deploy.md), not this.
//
//   node scripts/azure-secrets.mjs            the toolkit's form (stdout)
//   node scripts/azure-secrets.mjs --shell    `export NAME='value'` lines, for `az deployment group create` by hand
import { randomBytes } from 'node:crypto';

const shell = process.argv.includes('--shell');
const unknown = process.argv.slice(2).filter((a) => a !== '--shell');
if (unknown.length > 0) {
  process.stderr.write(`unknown option ${unknown[0]}; usage: node scripts/azure-secrets.mjs [--shell]\n`);
  process.exit(2);
}

/** Azure wants three of: upper case, lower case, digits, symbols. Base64url gives the first three, almost always. */
function postgresPassword() {
  for (;;) {
    const p = randomBytes(24).toString('base64url');
    if (/[A-Z]/.test(p) && /[a-z]/.test(p) && /[0-9]/.test(p)) return p;
  }
}

const keyId = `k${new Date().toISOString().slice(0, 10).replaceAll('-', '')}`;
const made = {
  SECRET_POSTGRES_ADMIN_PASSWORD: postgresPassword,
  // The key map and its current id go together: a new map only with a new id.
  SECRET_FIELD_ENCRYPTION_KEYS_BASE64: () => Buffer.from(JSON.stringify({ [keyId]: randomBytes(32).toString('base64') })).toString('base64'),
  FIELD_ENCRYPTION_CURRENT_KEY_ID: () => keyId,
  SECRET_DOWNLOAD_LINK_SECRET: () => randomBytes(48).toString('base64url'),
};

const keysSet = !!process.env.SECRET_FIELD_ENCRYPTION_KEYS_BASE64;
const idSet = !!process.env.FIELD_ENCRYPTION_CURRENT_KEY_ID;
if (keysSet !== idSet) {
  process.stderr.write(
    'SECRET_FIELD_ENCRYPTION_KEYS_BASE64 and FIELD_ENCRYPTION_CURRENT_KEY_ID must be set together: ' +
      `only ${keysSet ? 'the keys' : 'the key id'} is set. Set the other to match (docs/deploy.md, key rotation).\n`,
  );
  process.exit(1);
}

let count = 0;
for (const [name, make] of Object.entries(made)) {
  if (process.env[name]) continue;
  const value = make();
  process.stdout.write(shell ? `export ${name}='${value}'\n` : `::set-teamsfx-env ${name}=${value}\n`);
  count += 1;
}
process.stderr.write(count === 0 ? 'azure-secrets: every secret is already set\n' : `azure-secrets: made ${count} value(s)\n`);
