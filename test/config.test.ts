/** Start-up configuration: a broken setting stops the service with a message that names it. */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, LOCAL_KEY_FILE, loadConfig } from '../src/config.js';
import { cipherFromSource } from '../src/db/field-crypto.js';
import { demoDirectoryFile } from '../src/paths.js';

const dir = mkdtempSync(join(tmpdir(), 'sgd-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
/** Writes a directory file under the temporary folder and returns its path. */
function directoryFile(content: unknown): string {
  const path = join(dir, `directory-${++files}.json`);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

const areas = [
  { id: 'northgate', name: 'Northgate' },
  { id: 'southbridge', name: 'Southbridge' },
];
const officer = { aadObjectId: 'aad-officer-1', name: 'Megan Bowen', email: 'meganb@example.com', roles: ['officer'], areas: ['northgate'], trainedUntil: '2027-12-31' };
const referrer = { aadObjectId: 'aad-referrer-1', name: 'Alex Wilber', email: 'alexw@example.com', roles: ['referrer'], areas: [] };

const keyA = randomBytes(32).toString('base64');
const fieldKeys = { FIELD_ENCRYPTION_KEYS: JSON.stringify({ k20260101: keyA }), FIELD_ENCRYPTION_CURRENT_KEY_ID: 'k20260101' };
const authenticated = { MicrosoftAppId: 'a1b2c3d4-0000-4000-8000-00000000b07a', MicrosoftAppPassword: 'secret', MicrosoftAppTenantId: 'tenant', MicrosoftAppType: 'SingleTenant' };

/** The ConfigError loadConfig throws for `env` (fails the test if it returns or throws anything else). */
function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('loadConfig: the directory file', () => {
  it('accepts a good directory file', () => {
    const path = directoryFile({ areas, people: [officer, referrer] });
    const config = loadConfig({ ...authenticated, DIRECTORY_FILE: path });
    expect(config.directorySource).toBe(path);
    expect(config.directory.actor(officer.aadObjectId, 'x').roles).toEqual(['officer', 'referrer']);
  });

  it('refuses a file that is not JSON, naming the file', () => {
    const path = directoryFile('{ "areas": [ ');
    const err = configError({ DIRECTORY_FILE: path });
    expect(err.message).toContain(`Directory file ${path} is not valid JSON`);
  });

  it('refuses a file that is not there, naming it', () => {
    const path = join(dir, 'missing.json');
    expect(configError({ DIRECTORY_FILE: path }).message).toContain(`Cannot read DIRECTORY_FILE ${path}`);
  });

  it('refuses a person in an area that does not exist, saying which', () => {
    const path = directoryFile({ areas, people: [referrer, { ...officer, areas: ['northgate', 'atlantis'] }] });
    const err = configError({ DIRECTORY_FILE: path });
    expect(err.message).toContain(`Directory file ${path} is invalid`);
    expect(err.message).toContain('people.1.areas.1: unknown area "atlantis"');
  });

  it('refuses an officer without trainedUntil', () => {
    const { trainedUntil: _omit, ...untrained } = officer;
    const err = configError({ DIRECTORY_FILE: directoryFile({ areas, people: [untrained] }) });
    expect(err.message).toContain('people.0.trainedUntil: officers and supervisors need trainedUntil');
  });

  it('refuses a supervisor with no area', () => {
    const err = configError({ DIRECTORY_FILE: directoryFile({ areas, people: [{ ...officer, roles: ['supervisor'], areas: [] }] }) });
    expect(err.message).toContain('people.0.areas: officers and supervisors need at least one area');
  });

  it('refuses a person listed twice', () => {
    const err = configError({ DIRECTORY_FILE: directoryFile({ areas, people: [officer, referrer, { ...referrer, name: 'Someone Else' }] }) });
    expect(err.message).toContain('people.2.aadObjectId: duplicate aadObjectId aad-referrer-1');
  });

  it('refuses an area listed twice', () => {
    const err = configError({ DIRECTORY_FILE: directoryFile({ areas: [...areas, { id: 'northgate', name: 'Northgate again' }], people: [officer] }) });
    expect(err.message).toContain('areas: area ids must be unique');
  });

  it('refuses a date that is not a date, and a field it does not know', () => {
    const err = configError({ DIRECTORY_FILE: directoryFile({ areas, people: [{ ...officer, trainedUntil: '31/12/2027', isAdmin: true }] }) });
    expect(err.message).toContain('people.0.trainedUntil: must be a date like 2027-03-31');
    expect(err.message).toContain("Unrecognized key(s) in object: 'isAdmin'");
  });
});

describe('loadConfig: authentication and listening', () => {
  it('refuses to run in production without MicrosoftAppId', () => {
    expect(configError({ NODE_ENV: 'production' }).message).toMatch(/^MicrosoftAppId is not set: production refuses to run without Bot Framework authentication/);
    // An empty value is not set.
    expect(configError({ NODE_ENV: 'production', MicrosoftAppId: '' }).message).toMatch(/^MicrosoftAppId is not set/);
  });

  it('refuses MicrosoftAppId without DIRECTORY_FILE (the demo directory is for local use)', () => {
    expect(configError({ ...authenticated }).message).toMatch(/^DIRECTORY_FILE is not set: with Bot Framework authentication on, the demo directory is not used/);
  });

  it('runs anonymously on loopback only, with the demo directory, when there is no MicrosoftAppId', () => {
    const config = loadConfig({});
    expect(config.anonymous).toBe(true);
    expect(config.host).toBe('127.0.0.1');
    expect(config.directorySource).toBe(demoDirectoryFile);
    expect(config.botAuth).toEqual({});
  });

  it('listens on every interface when authenticated, unless HOST says otherwise', () => {
    const path = directoryFile({ areas, people: [officer] });
    expect(loadConfig({ ...authenticated, DIRECTORY_FILE: path }).host).toBe('0.0.0.0');
    expect(loadConfig({ ...authenticated, DIRECTORY_FILE: path, HOST: '10.0.0.5' }).host).toBe('10.0.0.5');
    expect(loadConfig({ HOST: '0.0.0.0' }).host).toBe('0.0.0.0');
  });

  it('passes the Bot Framework keys to botbuilder as given, and nothing else', () => {
    const path = directoryFile({ areas, people: [officer] });
    const config = loadConfig({ ...authenticated, DIRECTORY_FILE: path, ToBotFromChannelTokenIssuer: 'https://issuer.example', DATABASE_URL: 'postgres://db/x', ValidateAuthority: '' });
    expect(config.anonymous).toBe(false);
    expect(config.botAuth).toEqual({ ...authenticated, ToBotFromChannelTokenIssuer: 'https://issuer.example' });
  });

  it('names a malformed setting', () => {
    expect(configError({ PORT: 'eighty' }).message).toMatch(/^PORT: Expected number/);
    expect(configError({ DATABASE_URL: 'mysql://db/x' }).message).toBe('DATABASE_URL: DATABASE_URL must be a postgres:// URL');
    expect(configError({ LOG_LEVEL: 'loud' }).message).toMatch(/^LOG_LEVEL: Invalid enum value/);
  });
});

describe('loadConfig: download links', () => {
  it('needs PUBLIC_URL, an https:// origin, in production', () => {
    const path = directoryFile({ areas, people: [officer] });
    const production = { ...authenticated, ...fieldKeys, DIRECTORY_FILE: path, NODE_ENV: 'production' };
    expect(configError(production).message).toMatch(/^PUBLIC_URL is not set to an https:\/\/ address/);
    expect(configError({ ...production, PUBLIC_URL: 'http://desk.example.org' }).message).toMatch(/^PUBLIC_URL is not set to an https:\/\/ address/);
    expect(configError({ ...production, PUBLIC_URL: 'https://desk.example.org/bot' }).message).toBe('PUBLIC_URL: PUBLIC_URL must be an http(s) origin, with no path');
    expect(loadConfig({ ...production, PUBLIC_URL: 'https://desk.example.org/' }).publicUrl).toBe('https://desk.example.org');
  });

  it('needs one DOWNLOAD_LINK_SECRET for several authenticated instances, and makes its own for one', () => {
    const path = directoryFile({ areas, people: [officer] });
    expect(configError({ ...authenticated, DIRECTORY_FILE: path, INSTANCES: '3' }).message).toMatch(/^DOWNLOAD_LINK_SECRET is not set: with several instances/);
    expect(configError({ ...authenticated, DIRECTORY_FILE: path, INSTANCES: '3', DOWNLOAD_LINK_SECRET: 'short' }).message).toBe('DOWNLOAD_LINK_SECRET: DOWNLOAD_LINK_SECRET must be at least 32 characters');
    expect(loadConfig({ ...authenticated, DIRECTORY_FILE: path, INSTANCES: '3', DOWNLOAD_LINK_SECRET: 'x'.repeat(32) }).downloadLinkSecret).toBe('x'.repeat(32));
    expect(loadConfig({ ...authenticated, DIRECTORY_FILE: path }).downloadLinkSecret).toBeUndefined();
  });
});

describe('loadConfig: field-encryption keys', () => {
  const production = () => ({ ...authenticated, DIRECTORY_FILE: directoryFile({ areas, people: [officer] }), NODE_ENV: 'production', PUBLIC_URL: 'https://desk.example.org' });

  it('reads FIELD_ENCRYPTION_KEYS and FIELD_ENCRYPTION_CURRENT_KEY_ID', () => {
    const keyB = randomBytes(32).toString('base64url');
    const config = loadConfig({ ...production(), FIELD_ENCRYPTION_KEYS: JSON.stringify({ k20260101: keyA, k20270101: keyB }), FIELD_ENCRYPTION_CURRENT_KEY_ID: 'k20270101' });
    expect(config.fieldKeys.source).toBe('environment');
    const { cipher } = cipherFromSource(config.fieldKeys);
    expect(cipher.currentKeyId).toBe('k20270101');
    expect(cipher.keyIds.sort()).toEqual(['k20260101', 'k20270101']);
  });

  it('refuses to start in production without keys', () => {
    expect(configError(production()).message).toMatch(/^FIELD_ENCRYPTION_KEYS is not set: production refuses/);
  });

  it('says what is wrong with a key, naming its id and never its value', () => {
    const short = randomBytes(16).toString('base64');
    const problems: Array<[Record<string, string>, RegExp]> = [
      [{ FIELD_ENCRYPTION_KEYS: 'not json', FIELD_ENCRYPTION_CURRENT_KEY_ID: 'a' }, /^FIELD_ENCRYPTION_KEYS is not JSON/],
      [{ FIELD_ENCRYPTION_KEYS: '[]', FIELD_ENCRYPTION_CURRENT_KEY_ID: 'a' }, /^FIELD_ENCRYPTION_KEYS must be a JSON object/],
      [{ FIELD_ENCRYPTION_KEYS: '{}', FIELD_ENCRYPTION_CURRENT_KEY_ID: 'a' }, /^FIELD_ENCRYPTION_KEYS holds no keys/],
      [{ FIELD_ENCRYPTION_KEYS: JSON.stringify({ k1: short }), FIELD_ENCRYPTION_CURRENT_KEY_ID: 'k1' }, /^FIELD_ENCRYPTION_KEYS: key "k1" must be base64 of 32 bytes \(it decodes to 16\)/],
      [{ FIELD_ENCRYPTION_KEYS: JSON.stringify({ k1: 'not base64!' }), FIELD_ENCRYPTION_CURRENT_KEY_ID: 'k1' }, /^FIELD_ENCRYPTION_KEYS: key "k1" is not a base64 string/],
      [{ FIELD_ENCRYPTION_KEYS: JSON.stringify({ 'a:b': keyA }), FIELD_ENCRYPTION_CURRENT_KEY_ID: 'a:b' }, /^FIELD_ENCRYPTION_KEYS: key id "a:b" must be/],
      [{ FIELD_ENCRYPTION_KEYS: JSON.stringify({ k1: keyA }) }, /^FIELD_ENCRYPTION_CURRENT_KEY_ID is not set: .*"k1"/],
      [{ FIELD_ENCRYPTION_KEYS: JSON.stringify({ k1: keyA }), FIELD_ENCRYPTION_CURRENT_KEY_ID: 'k2' }, /^FIELD_ENCRYPTION_CURRENT_KEY_ID "k2" is not a key id in FIELD_ENCRYPTION_KEYS/],
      [{ FIELD_ENCRYPTION_CURRENT_KEY_ID: 'k1' }, /^FIELD_ENCRYPTION_CURRENT_KEY_ID is set but FIELD_ENCRYPTION_KEYS is not/],
    ];
    for (const [env, message] of problems) {
      const err = configError({ ...production(), ...env });
      expect(err.message).toMatch(message);
      expect(err.message).not.toContain(keyA);
      expect(err.message).not.toContain(short);
    }
  });

  it('outside production, keeps a generated key in the data folder (mode 0600), the same one on the next start', () => {
    const dataDir = join(dir, 'data-keys');
    const config = loadConfig({ DATA_DIR: dataDir });
    expect(config.fieldKeys).toEqual({ source: 'localFile', path: join(dataDir, LOCAL_KEY_FILE) });
    // With DATABASE_URL too: the key still lives in the data folder.
    expect(loadConfig({ DATA_DIR: dataDir, DATABASE_URL: 'postgres://db/x' }).fieldKeys).toEqual(config.fieldKeys);

    const first = cipherFromSource(config.fieldKeys);
    expect(first.created).toBe(true);
    expect(statSync(join(dataDir, LOCAL_KEY_FILE)).mode & 0o777).toBe(0o600);
    const again = cipherFromSource(config.fieldKeys);
    expect(again.created).toBe(false);
    expect(again.cipher.currentKeyId).toBe(first.cipher.currentKeyId);
    const sealed = first.cipher.encrypt('kept with the data', 'test.place');
    expect(again.cipher.decrypt(sealed, 'test.place')).toBe('kept with the data');
  });
});
