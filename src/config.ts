/**
 * Configuration from the environment, validated once at start. A missing
 * setting that production needs stops start-up with a message naming it;
 * nothing insecure is defaulted silently.
 */
import { readFileSync } from 'node:fs';
import { demoDirectoryFile } from './paths.js';
import { resolve } from 'node:path';
import { z } from 'zod';
import { parseDirectory, type Directory } from './domain/directory.js';
import { parseKeyMap, type FieldKeySource } from './db/field-crypto.js';

/** botbuilder's ConfigurationBotFrameworkAuthentication keys, passed through as given (sovereign clouds, certificates, managed identity). */
export const botAuthKeys = [
  'MicrosoftAppId',
  'MicrosoftAppPassword',
  'MicrosoftAppType',
  'MicrosoftAppTenantId',
  'CertificateThumbprint',
  'CertificatePrivateKey',
  'ChannelService',
  'ValidateAuthority',
  'ToChannelFromBotLoginUrl',
  'ToChannelFromBotOAuthScope',
  'ToBotFromChannelTokenIssuer',
  'OAuthUrl',
  'OAuthApiEndpoint',
  'ToBotFromChannelOpenIdMetadataUrl',
  'BotOpenIdMetadata',
  'ToBotFromEmulatorOpenIdMetadataUrl',
  'CallerId',
] as const;
export type BotAuthConfig = Partial<Record<(typeof botAuthKeys)[number], string>>;


const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3978),
  HOST: z.string().optional(),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'DATABASE_URL must be a postgres:// URL')
    .optional(),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(10),
  DATA_DIR: z.string().default('.data'),
  PGLITE_DATA_DIR: z.string().optional(),
  DIRECTORY_FILE: z.string().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  NODE_ENV: z.string().optional(),
  OUTBOX_POLL_MS: z.coerce.number().int().min(100).default(5000),
  /** How long a claimed outbox message is held before another instance may take it (a crash mid-send). */
  OUTBOX_LEASE_MS: z.coerce.number().int().min(1000).default(60_000),
  REMINDER_SWEEP_MS: z.coerce.number().int().min(1000).default(60_000),
  ESCALATE_AFTER_WORKING_DAYS: z.coerce.number().int().min(1).max(30).default(3),
  TRANSFER_ESCALATE_AFTER_WORKING_DAYS: z.coerce.number().int().min(1).max(30).default(5),
  /** How many instances share Teams' per-app rate limit (each takes 1/N of it). */
  INSTANCES: z.coerce.number().int().min(1).max(100).default(1),
  /** The origin users reach this service on (https://desk.example.org): download links point here. */
  PUBLIC_URL: z
    .string()
    .url('PUBLIC_URL must be a URL like https://desk.example.org')
    .refine((u) => /^https?:\/\/[^/?#]+\/?$/i.test(u), 'PUBLIC_URL must be an http(s) origin, with no path')
    .optional(),
  /** Signs download links; every instance needs the same one (at least 32 characters). */
  DOWNLOAD_LINK_SECRET: z.string().min(32, 'DOWNLOAD_LINK_SECRET must be at least 32 characters').optional(),
  /** Field-encryption keys, JSON {"<key id>": "<base64 of 32 bytes>", …}; checked by loadFieldKeys. */
  FIELD_ENCRYPTION_KEYS: z.string().optional(),
  /** The key id in FIELD_ENCRYPTION_KEYS that seals new values. */
  FIELD_ENCRYPTION_CURRENT_KEY_ID: z.string().optional(),
});

export interface Config {
  readonly port: number;
  readonly host: string;
  readonly databaseUrl?: string | undefined;
  readonly databasePoolSize: number;
  readonly pgliteDataDir: string;
  readonly directory: Directory;
  readonly directorySource: string;
  readonly logLevel: z.infer<typeof envSchema>['LOG_LEVEL'];
  readonly botAuth: BotAuthConfig;
  /** No MicrosoftAppId: requests are not authenticated. Local use only. */
  readonly anonymous: boolean;
  readonly outboxPollMs: number;
  readonly outboxLeaseMs: number;
  readonly reminderSweepMs: number;
  readonly escalateAfterWorkingDays: number;
  /** A pending transfer goes to the sending area's supervisors after this many working days. */
  readonly transferEscalateAfterWorkingDays: number;
  readonly instances: number;
  /** Where download links point; absent in local runs, where the service's own address is used. */
  readonly publicUrl?: string | undefined;
  /** Signs download links; absent → a secret made at start (one instance only). */
  readonly downloadLinkSecret?: string | undefined;
  /** The keys that seal narrative free text at rest: from the environment, or (not in production) a key file in the data folder. */
  readonly fieldKeys: FieldKeySource;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Reads and checks the environment. Throws ConfigError with a message that says what to set. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  }
  const e = parsed.data;
  const botAuth: BotAuthConfig = {};
  for (const k of botAuthKeys) {
    const v = env[k];
    if (v !== undefined && v !== '') botAuth[k] = v;
  }
  const anonymous = !botAuth.MicrosoftAppId;
  if (anonymous && e.NODE_ENV === 'production') {
    throw new ConfigError('MicrosoftAppId is not set: production refuses to run without Bot Framework authentication. Set MicrosoftAppId, MicrosoftAppTenantId, MicrosoftAppType and a credential.');
  }
  if (e.NODE_ENV === 'production' && !e.PUBLIC_URL?.toLowerCase().startsWith('https://')) {
    throw new ConfigError('PUBLIC_URL is not set to an https:// address: production needs the address users reach this service on, for the statistics CSV download links.');
  }
  if (!anonymous && e.INSTANCES > 1 && !e.DOWNLOAD_LINK_SECRET) {
    throw new ConfigError('DOWNLOAD_LINK_SECRET is not set: with several instances each must sign and check download links with the same secret (32 characters or more).');
  }
  if (!anonymous && !e.DIRECTORY_FILE) {
    throw new ConfigError('DIRECTORY_FILE is not set: with Bot Framework authentication on, the demo directory is not used. Point DIRECTORY_FILE at your directory JSON.');
  }
  const directorySource = resolve(e.DIRECTORY_FILE ?? demoDirectoryFile);
  let text: string;
  try {
    text = readFileSync(directorySource, 'utf8');
  } catch (err) {
    throw new ConfigError(`Cannot read DIRECTORY_FILE ${directorySource}: ${(err as Error).message}`);
  }
  let directory: Directory;
  try {
    directory = parseDirectory(text, directorySource);
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  return {
    port: e.PORT,
    // Unauthenticated mode trusts whoever posts, so it listens on loopback only unless told otherwise.
    host: e.HOST ?? (anonymous ? '127.0.0.1' : '0.0.0.0'),
    databaseUrl: e.DATABASE_URL,
    databasePoolSize: e.DATABASE_POOL_SIZE,
    pgliteDataDir: e.PGLITE_DATA_DIR ?? resolve(e.DATA_DIR, 'pglite'),
    directory,
    directorySource,
    logLevel: e.LOG_LEVEL,
    botAuth,
    anonymous,
    outboxPollMs: e.OUTBOX_POLL_MS,
    outboxLeaseMs: e.OUTBOX_LEASE_MS,
    reminderSweepMs: e.REMINDER_SWEEP_MS,
    escalateAfterWorkingDays: e.ESCALATE_AFTER_WORKING_DAYS,
    transferEscalateAfterWorkingDays: e.TRANSFER_ESCALATE_AFTER_WORKING_DAYS,
    instances: e.INSTANCES,
    publicUrl: e.PUBLIC_URL?.replace(/\/+$/, ''),
    downloadLinkSecret: e.DOWNLOAD_LINK_SECRET,
    fieldKeys: loadFieldKeys(env),
  };
}

/** Where the local run keeps the key it generates when FIELD_ENCRYPTION_KEYS is not set. */
export const LOCAL_KEY_FILE = 'field-encryption-keys.json';

/**
 * The field-encryption keys: FIELD_ENCRYPTION_KEYS and
 * FIELD_ENCRYPTION_CURRENT_KEY_ID, checked; without them (never in
 * production) a key file in DATA_DIR, made on first use. Also used on its own
 * by `npm run keys:rotate`. Messages name the setting, the key id and the
 * problem, never a key.
 */
export function loadFieldKeys(env: NodeJS.ProcessEnv = process.env): FieldKeySource {
  const keysText = env.FIELD_ENCRYPTION_KEYS?.trim() || undefined;
  const current = env.FIELD_ENCRYPTION_CURRENT_KEY_ID?.trim() || undefined;
  if (!keysText) {
    if (current) throw new ConfigError('FIELD_ENCRYPTION_CURRENT_KEY_ID is set but FIELD_ENCRYPTION_KEYS is not: set the key map it names (JSON {"<key id>": "<base64 of 32 random bytes>"}).');
    if (env.NODE_ENV === 'production') {
      throw new ConfigError('FIELD_ENCRYPTION_KEYS is not set: production refuses to store free text without encryption keys. Set FIELD_ENCRYPTION_KEYS to JSON {"<key id>": "<base64 of 32 random bytes>"} and FIELD_ENCRYPTION_CURRENT_KEY_ID to one of its ids.');
    }
    return { source: 'localFile', path: resolve(env.DATA_DIR || '.data', LOCAL_KEY_FILE) };
  }
  let keys: Map<string, Uint8Array>;
  try {
    keys = parseKeyMap(keysText, 'FIELD_ENCRYPTION_KEYS');
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  if (!current) throw new ConfigError(`FIELD_ENCRYPTION_CURRENT_KEY_ID is not set: name the key in FIELD_ENCRYPTION_KEYS that encrypts new data (one of ${[...keys.keys()].map((k) => `"${k}"`).join(', ')}).`);
  if (!keys.has(current)) throw new ConfigError(`FIELD_ENCRYPTION_CURRENT_KEY_ID "${current.slice(0, 64)}" is not a key id in FIELD_ENCRYPTION_KEYS (it has ${[...keys.keys()].map((k) => `"${k}"`).join(', ')}).`);
  return { source: 'environment', keys, currentKeyId: current };
}
