/**
 * Encryption at rest of narrative free text (the concern, notes, rationales):
 * AES-256-GCM, a random 96-bit IV per value, a 128-bit tag. A stored value
 * is a self-describing string,
 *
 *     enc:v1:<key id>:<base64url IV>:<base64url ciphertext and tag>
 *
 * so each value names the key that sealed it (keys rotate: `npm run
 * keys:rotate`), and a value written before encryption existed (no
 * envelope) reads back as it is. The associated data binds each value to
 * where it lives (`referrals.answers:concern.whatSeenOrHeard`): a value
 * copied into another column or field fails to decrypt.
 *
 * The repositories encrypt on write and decrypt on read through the cipher
 * installed at start (`installFieldCipher`), so use-cases and cards only see
 * plain text. Errors name the key id or the place, never the value.
 */
import { createCipheriv, createDecipheriv, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

const PREFIX = 'enc:v1:';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

/** Key ids appear inside stored values, so they are short and never contain the envelope's `:`. */
export const KEY_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** Does this stored string carry an envelope (rather than plain text written before encryption)? */
export function isEncrypted(stored: unknown): stored is string {
  return typeof stored === 'string' && stored.startsWith(PREFIX);
}

/** The key id an envelope names, or undefined for plain text. */
export function keyIdOf(stored: string): string | undefined {
  if (!isEncrypted(stored)) return undefined;
  const end = stored.indexOf(':', PREFIX.length);
  return end < 0 ? undefined : stored.slice(PREFIX.length, end);
}

/** A stored value that cannot be read: unknown key, altered, moved, or not an envelope after all. */
export class FieldDecryptionError extends Error {
  override name = 'FieldDecryptionError';
  constructor(
    message: string,
    /** The key id the value names, when it names one. */
    readonly keyId?: string,
  ) {
    super(message);
  }
}

/**
 * A keyring (key id → 32-byte key) and the id of the key that seals new
 * values. Older keys stay in the ring to read what they sealed until
 * `npm run keys:rotate` has re-sealed it under the current one.
 */
export class FieldCipher {
  // Imported once: createCipheriv with a KeyObject does not re-import the key on every value.
  private readonly keys = new Map<string, KeyObject>();

  constructor(
    keyring: ReadonlyMap<string, Uint8Array>,
    readonly currentKeyId: string,
  ) {
    for (const [id, key] of keyring) {
      if (!KEY_ID_PATTERN.test(id)) throw new Error(`field-encryption key id "${id.slice(0, 64)}" must be 1–64 letters, digits, _ or -`);
      if (key.length !== KEY_BYTES) throw new Error(`field-encryption key "${id}" must be ${KEY_BYTES} bytes (it is ${key.length})`);
      this.keys.set(id, createSecretKey(Buffer.from(key)));
    }
    if (!this.keys.has(currentKeyId)) throw new Error(`the current field-encryption key "${currentKeyId}" is not in the keyring`);
  }

  /** The key ids this cipher can read. */
  get keyIds(): string[] {
    return [...this.keys.keys()];
  }

  hasKey(id: string): boolean {
    return this.keys.has(id);
  }

  /** Seals `plain` under the current key, bound to `context` (where the value lives, e.g. `triage_assessments.rationale`). */
  encrypt(plain: string, context: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(this.currentKeyId)!, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(aad(this.currentKeyId, context));
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return `${PREFIX}${this.currentKeyId}:${iv.toString('base64url')}:${body.toString('base64url')}`;
  }

  /**
   * Opens a stored value sealed for `context`. Plain text (no envelope) comes
   * back unchanged: values written before encryption existed stay readable.
   * Throws FieldDecryptionError for an unknown key, an altered value, or a
   * value sealed for another place.
   */
  decrypt(stored: string, context: string): string {
    if (!isEncrypted(stored)) return stored;
    const parts = stored.split(':');
    if (parts.length !== 5) throw new FieldDecryptionError(`malformed encrypted value in ${context}`);
    const [, , keyId, ivText, bodyText] = parts as [string, string, string, string, string];
    const key = this.keys.get(keyId);
    if (!key) {
      throw new FieldDecryptionError(
        `field-encryption key "${keyId}" is not configured (FIELD_ENCRYPTION_KEYS), so a value in ${context} cannot be read: add the key back to the ring`,
        keyId,
      );
    }
    const iv = Buffer.from(ivText, 'base64url');
    const body = Buffer.from(bodyText, 'base64url');
    if (iv.length !== IV_BYTES || body.length < TAG_BYTES) throw new FieldDecryptionError(`malformed encrypted value in ${context} (key "${keyId}")`, keyId);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(aad(keyId, context));
      decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
      return Buffer.concat([decipher.update(body.subarray(0, body.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw new FieldDecryptionError(`an encrypted value in ${context} (key "${keyId}") failed its integrity check: altered, or copied from elsewhere`, keyId);
    }
  }

  /** Is this stored value sealed under a key other than the current one? */
  needsRotation(stored: unknown): boolean {
    return isEncrypted(stored) && keyIdOf(stored) !== this.currentKeyId;
  }
}

function aad(keyId: string, context: string): Buffer {
  return Buffer.from(`v1|${keyId}|${context}`, 'utf8');
}

// ---------------------------------------------------------------------------
// The cipher the repositories use

let installed: FieldCipher | undefined;

/** Makes `cipher` the one the repositories seal and open with. src/start.ts installs it before the service answers; tests install theirs. */
export function installFieldCipher(cipher: FieldCipher): void {
  installed = cipher;
}

/** The installed cipher. Throws when none is: writing narrative text unencrypted is never the fallback. */
export function fieldCipher(): FieldCipher {
  if (!installed) throw new Error('No field cipher is installed: call installFieldCipher() before using the repositories (startService does it from the configuration)');
  return installed;
}

// ---------------------------------------------------------------------------
// Keys

/** Where the keys come from: the environment (FIELD_ENCRYPTION_KEYS), or outside production a key file in the data folder. */
export type FieldKeySource =
  | { readonly source: 'environment'; readonly keys: ReadonlyMap<string, Uint8Array>; readonly currentKeyId: string }
  | { readonly source: 'localFile'; readonly path: string };

/**
 * Parses a key map `{"<key id>": "<base64 of 32 bytes>", …}` (the form of
 * FIELD_ENCRYPTION_KEYS and of the local key file). Messages name the key id
 * and what is wrong with it, never a key.
 */
export function parseKeyMap(text: string, what: string): Map<string, Uint8Array> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`${what} is not JSON: expected {"<key id>": "<base64 of 32 random bytes>", …}`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`${what} must be a JSON object {"<key id>": "<base64 of 32 random bytes>", …}`);
  const keys = new Map<string, Uint8Array>();
  for (const [id, value] of Object.entries(parsed as Record<string, unknown>)) {
    if (!KEY_ID_PATTERN.test(id)) throw new Error(`${what}: key id "${id.slice(0, 64)}" must be 1–64 letters, digits, _ or -`);
    if (typeof value !== 'string' || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(value)) throw new Error(`${what}: key "${id}" is not a base64 string`);
    const key = Buffer.from(value, value.includes('-') || value.includes('_') ? 'base64url' : 'base64');
    if (key.length !== KEY_BYTES) throw new Error(`${what}: key "${id}" must be base64 of ${KEY_BYTES} bytes (it decodes to ${key.length})`);
    keys.set(id, key);
  }
  if (keys.size === 0) throw new Error(`${what} holds no keys`);
  return keys;
}

interface LocalKeyFile {
  readonly currentKeyId: string;
  readonly keys: Record<string, string>;
}

/**
 * The local run's keyring: read from `path`, or made (one random key) and
 * written there with mode 0600 when the file does not exist yet. Two
 * processes starting together on one data folder agree: the file is created
 * exclusively and the loser reads the winner's.
 */
export function openLocalKeyFile(path: string): { cipher: FieldCipher; created: boolean } {
  let created = false;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`cannot read the local field-encryption key file ${path}: ${(err as Error).message}`);
    const id = `local-${randomBytes(4).toString('hex')}`;
    const file: LocalKeyFile = { currentKeyId: id, keys: { [id]: randomBytes(KEY_BYTES).toString('base64') } };
    mkdirSync(dirname(path), { recursive: true });
    try {
      writeFileSync(path, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
      chmodSync(path, 0o600); // the umask may have taken bits off, never added: make it exact
      created = true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    text = readFileSync(path, 'utf8');
  }
  let file: Partial<LocalKeyFile>;
  try {
    file = JSON.parse(text) as Partial<LocalKeyFile>;
  } catch {
    throw new Error(`the local field-encryption key file ${path} is not JSON`);
  }
  const keys = parseKeyMap(JSON.stringify(file.keys ?? null), `the key file ${path}`);
  if (typeof file.currentKeyId !== 'string' || !keys.has(file.currentKeyId)) throw new Error(`the key file ${path}: currentKeyId must name one of its keys`);
  return { cipher: new FieldCipher(keys, file.currentKeyId), created };
}

/** The cipher for a configured key source; `created` says a local key file was made just now. */
export function cipherFromSource(source: FieldKeySource): { cipher: FieldCipher; created: boolean } {
  if (source.source === 'environment') return { cipher: new FieldCipher(source.keys, source.currentKeyId), created: false };
  return openLocalKeyFile(source.path);
}
