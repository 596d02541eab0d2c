/**
 * The authenticated mode: a single-tenant app whose inbound requests carry
 * Bot Framework channel tokens. The signing keys come from a local OpenID
 * metadata server started here (ToBotFromChannelOpenIdMetadataUrl), so the
 * whole of botbuilder's check runs: issuer, signature against the published
 * key (RS256/384/512 only), the key's channel endorsements, lifetime with
 * 5 minutes' clock tolerance, audience = MicrosoftAppId, and the serviceurl
 * claim = the activity's serviceUrl. Every failure must be a 401 that runs no
 * turn and leaves the process serving.
 *
 * Outbound calls need a token from Entra, which this machine cannot reach:
 * an invoke is answered in the HTTP response with no outbound call, so it is
 * the plain proof that a turn ran; the message-turn tests say what they do
 * about the outbound token.
 */
import { createHmac, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AppCredentials } from 'botframework-connector';
import { eq } from 'drizzle-orm';
import jwt from 'jsonwebtoken';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { demoDirectoryFile } from '../../src/paths.js';
import { drafts } from '../../src/db/schema.js';
import { Harness, people, type Card } from '../harness/harness.js';
import { createTestDatabase, type TestDatabase } from '../harness/databases.js';
import { cardText } from '../harness/cards.js';

const APP_ID = 'a1b2c3d4-0000-4000-8000-00000000b07a';
const TENANT_ID = '11111111-2222-3333-4444-555555555555';
const ISSUER = 'https://api.botframework.test';
const TEAMS_KID = 'teams-key-1';
const WEBCHAT_KID = 'webchat-key-1';

const rsa = () => generateKeyPairSync('rsa', { modulusLength: 2048 });
/** The key Bot Framework would sign Teams traffic with (endorsed for msteams). */
const teamsKey = rsa();
/** A published key endorsed only for another channel. */
const webchatKey = rsa();
/** A key nobody published. */
const strangerKey = rsa();

/** A tiny OpenID provider: metadata document and JWKS, as login.botframework.com serves them. */
class OpenIdServer {
  private server: Server | undefined;
  url = '';
  keyFetches = 0;

  async start(): Promise<this> {
    const jwk = (k: KeyObject, kid: string, endorsements: string[]) => ({ ...k.export({ format: 'jwk' }), kid, use: 'sig', endorsements });
    const keys = [jwk(teamsKey.publicKey, TEAMS_KID, ['msteams']), jwk(webchatKey.publicKey, WEBCHAT_KID, ['webchat'])];
    this.server = createServer((req, res) => {
      const json = (body: unknown) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      if (req.url === '/v1/.well-known/openidconfiguration') {
        json({ issuer: ISSUER, jwks_uri: `${this.url}/v1/keys`, id_token_signing_alg_values_supported: ['RS256'] });
      } else if (req.url === '/v1/keys') {
        this.keyFetches += 1;
        json({ keys });
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

const b64url = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
const nowSeconds = () => Math.floor(Date.now() / 1000);

interface TokenOptions {
  readonly claims?: Record<string, unknown>;
  readonly key?: KeyObject;
  readonly kid?: string;
  readonly algorithm?: jwt.Algorithm;
}

/** The claims a Bot Framework channel token carries, overridable one by one (undefined removes a claim). */
function channelClaims(serviceUrl: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const t = nowSeconds();
  const claims: Record<string, unknown> = { iss: ISSUER, aud: APP_ID, serviceurl: serviceUrl, nbf: t - 60, iat: t - 60, exp: t + 3600, ...overrides };
  for (const [k, v] of Object.entries(claims)) if (v === undefined) delete claims[k];
  return claims;
}

function signToken(serviceUrl: string, o: TokenOptions = {}): string {
  return jwt.sign(channelClaims(serviceUrl, o.claims), o.key ?? teamsKey.privateKey, { algorithm: o.algorithm ?? 'RS256', keyid: o.kid ?? TEAMS_KID });
}

/** An unsigned token (`alg: none`) naming the real key id. */
function unsignedToken(serviceUrl: string): string {
  return `${b64url({ alg: 'none', typ: 'JWT', kid: TEAMS_KID })}.${b64url(channelClaims(serviceUrl))}.`;
}

/** The classic key-confusion forgery: HS256 with the published public key as the HMAC secret. */
function hmacWithPublicKey(serviceUrl: string): string {
  const head = `${b64url({ alg: 'HS256', typ: 'JWT', kid: TEAMS_KID })}.${b64url(channelClaims(serviceUrl))}`;
  const secret = teamsKey.publicKey.export({ type: 'spki', format: 'pem' });
  return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`;
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('authenticated mode (single-tenant app, channel tokens checked against published keys)', () => {
  let openId: OpenIdServer;
  let db: TestDatabase;
  let h: Harness;

  beforeAll(async () => {
    openId = await new OpenIdServer().start();
    db = await createTestDatabase('pglite');
    h = await Harness.start({
      database: await db.open(),
      env: {
        HOST: '127.0.0.1',
        MicrosoftAppId: APP_ID,
        MicrosoftAppPassword: 'not-a-real-secret',
        MicrosoftAppTenantId: TENANT_ID,
        MicrosoftAppType: 'SingleTenant',
        DIRECTORY_FILE: demoDirectoryFile,
        ToBotFromChannelOpenIdMetadataUrl: `${openId.url}/v1/.well-known/openidconfiguration`,
        ToBotFromChannelTokenIssuer: ISSUER,
      },
    });
  });
  afterAll(async () => {
    await h?.stop();
    await h?.service.database.close();
    await db?.drop();
    await openId?.stop();
  });
  beforeEach(() => {
    h.connector.clear();
    // botbuilder console.error()s every rejected token (with the PEM of the key it tried); keep the output readable.
    vi.spyOn(console, 'error').mockImplementation(() => {});
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  const alex = () => h.user('alex');
  const draftsOf = async (aadObjectId: string) => h.service.database.db.select().from(drafts).where(eq(drafts.ownerAadObjectId, aadObjectId));

  /** An Action.Execute for a verb the bot does not know: answered in the HTTP response, no outbound call. */
  const probe = (headers: Record<string, string>) =>
    h.post({ ...alex().base(), type: 'invoke', name: 'adaptiveCard/action', value: { action: { type: 'Action.Execute', verb: 'auth.probe', data: {} }, trigger: 'manual' } }, headers);

  const expectProbeCard = (reply: { status: number; body: unknown }) => {
    expect(reply.status).toBe(200);
    const body = reply.body as { statusCode: number; type: string; value: Card };
    expect(body.statusCode).toBe(200);
    expect(body.type).toBe('application/vnd.microsoft.card.adaptive');
    expect(cardText(body.value)).toContain('That button is no longer supported. Type help to see what you can do.');
  };

  /** Log lines written since `mark` (an index into the captured lines). */
  const logsSince = (mark: number) => h.logs.lines.slice(mark).map((l) => JSON.parse(l) as { msg?: string; reason?: string; err?: { message?: string } });
  /** The reasons botbuilder gave for requests refused since `mark` (logged by the HTTP edge). */
  const refusalsSince = (mark: number) => logsSince(mark).filter((l) => l.msg === 'request refused: authentication failed').map((l) => l.reason);

  it('accepts a correctly signed channel token: the invoke runs and is answered with its card', async () => {
    const mark = h.logs.lines.length;
    const reply = await probe(bearer(signToken(h.connector.url)));
    expectProbeCard(reply);
    expect(refusalsSince(mark)).toEqual([]);
    // The keys really came from the configured metadata URL.
    expect(openId.keyFetches).toBeGreaterThanOrEqual(1);
    expect(h.connector.sent).toHaveLength(0);
  });

  it('accepts RS384 and RS512 as well as RS256', async () => {
    for (const algorithm of ['RS384', 'RS512'] as const) {
      expectProbeCard(await probe(bearer(signToken(h.connector.url, { algorithm }))));
    }
  });

  it('allows 5 minutes of clock skew either way, and no more', async () => {
    const t = nowSeconds();
    expectProbeCard(await probe(bearer(signToken(h.connector.url, { claims: { exp: t - 240 } }))));
    expectProbeCard(await probe(bearer(signToken(h.connector.url, { claims: { nbf: t + 240, iat: t + 240 } }))));
    expect((await probe(bearer(signToken(h.connector.url, { claims: { exp: t - 360 } })))).status).toBe(401);
    expect((await probe(bearer(signToken(h.connector.url, { claims: { nbf: t + 360, iat: t + 360 } })))).status).toBe(401);
  });

  it('runs a message turn under a good token; without an Entra token for the reply, the reply is not sent', async () => {
    const before = (await draftsOf(people.alex.aadObjectId)).length;
    const mark = h.logs.lines.length;
    const reply = await h.post({ ...alex().base(), type: 'message', text: 'refer', textFormat: 'plain' }, bearer(signToken(h.connector.url)));
    expect(reply.status).toBe(200);
    // The turn ran as Alex: `refer` opened a draft.
    expect(await draftsOf(people.alex.aadObjectId)).toHaveLength(before + 1);
    // The reply needed an outbound token from Entra, which is unreachable here, so nothing was posted.
    expect(h.connector.sent).toHaveLength(0);
    expect(logsSince(mark).filter((l) => l.msg === 'turn error')).toHaveLength(1);
    expect(refusalsSince(mark)).toEqual([]);
  });

  it('replies to a message turn with the bot’s own outbound token', async () => {
    // Stand in for Entra: put an access token in botbuilder's (private, static) app-token cache under
    // the key AppCredentials.getToken looks up for this app id and the default Bot Framework scope.
    // Nothing of ours is touched; if botbuilder changes that cache, this test fails (no reply), not passes.
    const tokenCache = (AppCredentials as unknown as { cache: Map<string, { accessToken: string; expiresOn: Date }> }).cache;
    const cacheKey = `${APP_ID}https://api.botframework.com-cache`;
    tokenCache.set(cacheKey, { accessToken: 'outbound-token-for-test', expiresOn: new Date(Date.now() + 3_600_000) });
    const recorder = await startRecorder();
    try {
      const reply = await h.post({ ...alex().base(), serviceUrl: recorder.url, type: 'message', text: 'help', textFormat: 'plain' }, bearer(signToken(recorder.url)));
      expect(reply.status).toBe(200);
      expect(recorder.requests).toHaveLength(1);
      const [sent] = recorder.requests;
      expect(sent!.method).toBe('POST');
      expect(sent!.path).toMatch(new RegExp(`^/v3/conversations/${encodeURIComponent(alex().conversationId).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/activities/`));
      expect(sent!.authorization).toBe('Bearer outbound-token-for-test');
      const card = (sent!.body.attachments as Array<{ content: Card }>)[0]!.content;
      expect(cardText(card)).toContain('What I can do');
    } finally {
      tokenCache.delete(cacheKey);
      await recorder.stop();
    }
  });

  const refused: Array<[string, (serviceUrl: string) => Record<string, string>, RegExp]> = [
    ['no Authorization header', () => ({}), /Unauthorized Access\. Request is not authorized/],
    ['an empty bearer', () => ({ authorization: 'Bearer ' }), /No valid identity/],
    ['a garbage token', () => bearer('not-a-jwt'), /No valid identity/],
    ['a good token under the Basic scheme', (u) => ({ authorization: `Basic ${signToken(u)}` }), /No valid identity/],
    ['an unsigned token (alg: none)', (u) => bearer(unsignedToken(u)), /jwt signature is required/],
    ['HS256 signed with the published public key', (u) => bearer(hmacWithPublicKey(u)), /invalid algorithm/],
    ['a key id nobody published', (u) => bearer(signToken(u, { key: strangerKey.privateKey, kid: 'unknown-key' })), /Signing Key could not be retrieved/],
    ['the right key id but another key (bad signature)', (u) => bearer(signToken(u, { key: strangerKey.privateKey })), /invalid signature/],
    ['a key endorsed for another channel only', (u) => bearer(signToken(u, { key: webchatKey.privateKey, kid: WEBCHAT_KID })), /Could not validate endorsement/],
    ['an expired token (beyond the tolerance)', (u) => bearer(signToken(u, { claims: { exp: nowSeconds() - 600, iat: nowSeconds() - 4200, nbf: nowSeconds() - 4200 } })), /token has expired/],
    ['a token not yet valid (nbf beyond the tolerance)', (u) => bearer(signToken(u, { claims: { nbf: nowSeconds() + 600, iat: nowSeconds() + 600 } })), /jwt not active/],
    ['another app’s audience', (u) => bearer(signToken(u, { claims: { aud: 'ffffffff-0000-4000-8000-000000000000' } })), /Invalid AppId passed on token: ffffffff-0000-4000-8000-000000000000/],
    ['no audience', (u) => bearer(signToken(u, { claims: { aud: undefined } })), /Invalid AppId passed on token/],
    ['another issuer', (u) => bearer(signToken(u, { claims: { iss: 'https://sts.windows.net/evil/' } })), /No valid identity/],
    ['a serviceurl claim for another service URL', () => bearer(signToken('https://smba.trafficmanager.net/emea/')), /ServiceUrl claim do not match/],
    ['no serviceurl claim', (u) => bearer(signToken(u, { claims: { serviceurl: undefined } })), /ServiceUrl claim do not match/],
  ];

  it.each(refused)('answers 401 to %s, runs no turn, and serves the next good request', async (_name, headersFor, reason) => {
    const before = (await draftsOf(people.alex.aadObjectId)).length;
    const mark = h.logs.lines.length;
    // `refer` would open a draft and post a card if the turn ran.
    const reply = await h.post({ ...alex().base(), type: 'message', text: 'refer', textFormat: 'plain' }, headersFor(h.connector.url));
    expect(reply.status).toBe(401);
    expect(reply.body).toEqual({ error: 'unauthorized' });
    const reasons = refusalsSince(mark);
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toMatch(reason);
    expect(await draftsOf(people.alex.aadObjectId)).toHaveLength(before);
    expect(h.connector.sent).toHaveLength(0);

    // The same refusal for an invoke, which would otherwise be answered in the response body.
    const invoke = await probe(headersFor(h.connector.url));
    expect(invoke.status).toBe(401);
    expect(invoke.body).toEqual({ error: 'unauthorized' });

    expectProbeCard(await probe(bearer(signToken(h.connector.url))));
  });
});

interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly authorization: string | undefined;
  readonly body: Record<string, unknown>;
}

/** A one-purpose Bot Connector stand-in that also records the Authorization header of each call. */
async function startRecorder(): Promise<{ url: string; requests: RecordedRequest[]; stop: () => Promise<void> }> {
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push({
        method: req.method ?? '',
        path: req.url ?? '',
        authorization: req.headers.authorization,
        body: JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>,
      });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: `sent-${randomUUID()}` }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
