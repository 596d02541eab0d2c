/**
 * The HTTP edge in anonymous local mode, and card data that no real card
 * would send. Bad requests are answered with a status and a JSON error, run
 * no turn and post nothing; bad card data is answered with an error card and
 * changes nothing; and the service goes on serving.
 */
import { request, Agent } from 'node:http';
import { asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MAX_BODY_BYTES } from '../../src/http/server.js';
import { auditLog, drafts, referrals } from '../../src/db/schema.js';
import { Harness, people, type Card } from '../harness/harness.js';
import { createTestDatabase, testDatabases, type TestDatabase } from '../harness/databases.js';
import { cardInputs, cardText } from '../harness/cards.js';
import { draftIdOf, startDraft, validAnswers } from '../harness/referral.js';

const NOT_FOUND = 'That could not be found. It may have been submitted already, or belong to someone else.';
const INVALID = 'That request could not be read. Please try again from the latest card.';
const UNKNOWN_ACTION = 'That button is no longer supported. Type help to see what you can do.';

interface RawReply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
  /** Resolves when the server has closed the connection (the client keeps it alive otherwise). */
  readonly closed: Promise<void>;
}

/** POSTs with node:http so the body can be sent chunked (no Content-Length) on a keep-alive connection. */
function postRaw(url: string, body: Buffer, o: { chunked: boolean; agent: Agent }): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const u = new URL('/api/messages', url);
    const headers: Record<string, string | number> = { 'content-type': 'application/json' };
    if (o.chunked) headers['transfer-encoding'] = 'chunked';
    else headers['content-length'] = body.length;
    const req = request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', headers, agent: o.agent }, (res) => {
      const closed = new Promise<void>((done) => res.socket.once('close', () => done()));
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), closed }));
    });
    req.on('error', reject);
    if (o.chunked) {
      for (let i = 0; i < body.length; i += 16 * 1024) req.write(body.subarray(i, i + 16 * 1024));
      req.end();
    } else {
      req.end(body);
    }
  });
}

const within = <T>(ms: number, p: Promise<T>, what: string): Promise<T> =>
  Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms).unref())]);

describe('HTTP edge, anonymous local mode', () => {
  let db: TestDatabase;
  let h: Harness;
  beforeAll(async () => {
    db = await createTestDatabase('pglite');
    h = await Harness.start({ database: await db.open() });
  });
  afterAll(async () => {
    // A connection left open by a refused request would hang this (graceful shutdown waits for it).
    await within(10_000, h.stop(), 'service shutdown');
    await h.service.database.close();
    await db.drop();
  });
  let draftsBefore = 0;
  beforeEach(async () => {
    h.connector.clear();
    draftsBefore = (await h.service.database.db.select().from(drafts)).length;
  });

  const alex = () => h.user('alex');
  /** A `refer` message: if a turn ran, a draft would be opened and a card posted. */
  const refer = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({ ...alex().base(), type: 'message', text: 'refer', textFormat: 'plain', ...overrides });
  const without = (key: string) => {
    const a = refer();
    delete a[key];
    return a;
  };
  const expectNoTurn = async () => {
    expect(h.connector.sent).toHaveLength(0);
    expect(await h.service.database.db.select().from(drafts)).toHaveLength(draftsBefore);
  };
  const fetchRaw = async (path: string, init: RequestInit = {}) => {
    const res = await fetch(`${h.url}${path}`, init);
    return { status: res.status, contentType: res.headers.get('content-type'), text: await res.text() };
  };

  it('answers 400 to a body that is not JSON', async () => {
    const reply = await h.post('{"type": "message", "text": "refer"');
    expect(reply.status).toBe(400);
    expect(reply.body).toEqual({ error: 'body is not JSON' });
    expect((await h.post('')).body).toEqual({ error: 'body is not JSON' });
    await expectNoTurn();
  });

  const notActivities: Array<[string, () => unknown, string]> = [
    ['no type', () => without('type'), 'type'],
    ['an empty type', () => refer({ type: '' }), 'type'],
    ['no serviceUrl', () => without('serviceUrl'), 'serviceUrl'],
    ['an ftp: serviceUrl', () => refer({ serviceUrl: 'ftp://127.0.0.1/bot' }), 'serviceUrl'],
    ['a javascript: serviceUrl', () => refer({ serviceUrl: 'javascript:alert(1)' }), 'serviceUrl'],
    ['a serviceUrl that is not a URL', () => refer({ serviceUrl: 'smba.trafficmanager.net/emea' }), 'serviceUrl'],
    ['no recipient', () => without('recipient'), 'recipient'],
    ['a recipient without an id', () => refer({ recipient: { name: 'Safeguard Desk' } }), 'recipient.id'],
    ['no conversation', () => without('conversation'), 'conversation'],
    ['a conversation without an id', () => refer({ conversation: { conversationType: 'personal' } }), 'conversation.id'],
    ['no from', () => without('from'), 'from'],
    ['no channelId', () => without('channelId'), 'channelId'],
    ['a JSON array', () => [refer()], 'body'],
    ['JSON null', () => null, 'body'],
    ['a JSON string', () => '"refer"', 'body'],
  ];

  it.each(notActivities)('answers 400 with a JSON error to %s, and runs no turn', async (_name, bodyOf, path) => {
    const body = bodyOf();
    const res = await fetchRaw('/api/messages', { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
    expect(res.status).toBe(400);
    expect(res.contentType).toBe('application/json; charset=utf-8');
    const { error } = JSON.parse(res.text) as { error: string };
    expect(error.startsWith('not a Bot Framework activity: ')).toBe(true);
    // The paths of the failed checks (a bad URL can fail two checks on the same path).
    expect([...new Set(error.slice('not a Bot Framework activity: '.length).split(', '))]).toEqual([path]);
    await expectNoTurn();
  });

  it('answers 413 to a body over 256 KB that declares its length', async () => {
    const big = JSON.stringify(refer({ padding: 'x'.repeat(MAX_BODY_BYTES) }));
    const reply = await h.post(big);
    expect(reply.status).toBe(413);
    expect(reply.body).toEqual({ error: 'request body too large' });
    await expectNoTurn();
  });

  it('answers 413 to a chunked body over 256 KB, and closes that connection', async () => {
    const agent = new Agent({ keepAlive: true });
    try {
      const body = Buffer.from(JSON.stringify(refer({ padding: 'x'.repeat(2 * MAX_BODY_BYTES) })));
      const reply = await postRaw(h.url, body, { chunked: true, agent });
      expect(reply.status).toBe(413);
      expect(JSON.parse(reply.body)).toEqual({ error: 'request body too large' });
      // The rest of the body was never read, so the connection cannot carry another request: the server must close it.
      expect(reply.headers.connection).toBe('close');
      await within(2_000, reply.closed, 'the server closing the connection');
      await expectNoTurn();
    } finally {
      agent.destroy();
    }
  });

  it('takes a body just under 256 KB', async () => {
    const base = JSON.stringify({ ...alex().base(), type: 'message', text: 'help', textFormat: 'plain', padding: '' });
    const body = JSON.stringify({ ...alex().base(), type: 'message', text: 'help', textFormat: 'plain', padding: 'x'.repeat(MAX_BODY_BYTES - base.length - 100) });
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(MAX_BODY_BYTES);
    expect(Buffer.byteLength(body)).toBeGreaterThan(MAX_BODY_BYTES - 1000);
    const reply = await h.post(body);
    expect(reply.status).toBe(200);
    expect(cardText(h.connector.cardsIn(alex().conversationId).at(-1)!)).toContain('What I can do');
  });

  it('answers 405 to GET /api/messages', async () => {
    const res = await fetchRaw('/api/messages');
    expect(res.status).toBe(405);
    expect(JSON.parse(res.text)).toEqual({ error: 'use POST' });
  });

  it('answers 404 to an unknown path, and to POST /healthz', async () => {
    for (const [path, method] of [['/api/message', 'POST'], ['/', 'GET'], ['/api/messages/x', 'POST'], ['/healthz', 'POST']] as const) {
      const res = await fetchRaw(path, { method, ...(method === 'POST' ? { body: JSON.stringify(refer()), headers: { 'content-type': 'application/json' } } : {}) });
      expect([path, method, res.status]).toEqual([path, method, 404]);
      expect(JSON.parse(res.text)).toEqual({ error: 'not found' });
    }
    await expectNoTurn();
  });

  it('reports health on GET /healthz', async () => {
    const res = await fetchRaw('/healthz');
    expect(res.status).toBe(200);
    expect(res.contentType).toBe('application/json; charset=utf-8');
    expect(JSON.parse(res.text)).toEqual({ status: 'ok', database: 'pglite' });
    expect((await fetchRaw('/healthz?probe=1', { method: 'HEAD' })).status).toBe(200);
  });

  it('after all of that, still answers a help message with a card', async () => {
    const cards = await alex().say('help');
    expect(cards).toHaveLength(1);
    expect(cardText(cards[0]!).split('\n')[0]).toBe('What I can do');
  });
});

describe.each(testDatabases())('card data no card would send, on %s', (kind) => {
  let db: TestDatabase;
  let h: Harness;
  beforeAll(async () => {
    db = await createTestDatabase(kind);
    h = await Harness.start({ database: await db.open() });
  });
  afterAll(async () => {
    await h.stop();
    await h.service.database.close();
    await db.drop();
  });

  const allDrafts = () => h.service.database.db.select().from(drafts).orderBy(asc(drafts.id));
  const inputsOf = (card: Card) => cardInputs(card).map((i) => [i.id, i.value]);

  /** Alex's draft, saved part-way: About the person filled in, so resuming shows those inputs. */
  async function alexsDraft(): Promise<{ draftId: string; resumed: Card }> {
    const alex = h.user('alex');
    const draftId = draftIdOf(await startDraft(alex));
    const answers = validAnswers();
    await alex.execute('wizard.next', { draftId, step: 'danger', ...answers.danger });
    await alex.execute('wizard.next', { draftId, step: 'aboutYou', ...answers.aboutYou });
    const saved = await alex.execute('wizard.save', { draftId, step: 'aboutPerson', ...answers.aboutPerson });
    expect(cardText(saved)).toContain('Saved');
    const resumed = await alex.execute('wizard.resume', { draftId });
    expect(cardText(resumed)).toContain('About the person');
    expect(cardInputs(resumed).find((i) => i.id === 'firstName')?.value).toBe('Jordan');
    return { draftId, resumed };
  }

  /** Presses a button with the given data; expects HTTP 200 with an error card and returns its text. */
  async function errorCardFor(who: 'alex' | 'megan', verb: string, data: Record<string, unknown>): Promise<string> {
    const reply = await h.user(who).invoke(verb, data);
    expect(reply.status).toBe(200);
    const body = reply.body as { statusCode: number; type: string; value: Card };
    expect(body.statusCode).toBe(200);
    expect(body.type).toBe('application/vnd.microsoft.card.adaptive');
    const text = cardText(body.value);
    expect(text.split('\n')[0]).toBe('Something needs attention');
    return text;
  }

  it('treats someone else’s draft as not found, changes nothing in it, and audits the attempt', async () => {
    const { draftId, resumed } = await alexsDraft();
    const before = await allDrafts();
    const answers = validAnswers();

    const attempts: Array<[string, Record<string, unknown>]> = [
      ['wizard.resume', { draftId }],
      ['wizard.next', { draftId, step: 'aboutPerson', ...answers.aboutPerson, firstName: 'Overwritten' }],
      ['wizard.save', { draftId, step: 'aboutPerson', firstName: 'Overwritten' }],
      ['wizard.back', { draftId, step: 'aboutPerson', firstName: 'Overwritten' }],
      ['wizard.edit', { draftId, step: 'concern' }],
      ['wizard.submit', { draftId, declaration: 'true' }],
    ];
    for (const [verb, data] of attempts) {
      const text = await errorCardFor('megan', verb, data);
      expect([verb, text]).toEqual([verb, expect.stringContaining(NOT_FOUND)]);
      // Nothing of Alex's draft leaks onto the card.
      expect(text).not.toContain('Jordan');
    }

    expect(await allDrafts()).toEqual(before);
    expect(await h.service.database.db.select().from(referrals)).toHaveLength(0);
    const again = await h.user('alex').execute('wizard.resume', { draftId });
    expect(inputsOf(again)).toEqual(inputsOf(resumed));
    const denied = await h.service.database.db.select().from(auditLog).where(eq(auditLog.action, 'draft.access_denied'));
    expect(denied.map((d) => [d.actorAadObjectId, d.entityId])).toEqual(attempts.map(() => [people.megan.aadObjectId, draftId]));
  });

  const fieldsFor = (draftId: string) => ({ draftId, step: 'aboutPerson', ...validAnswers().aboutPerson });
  const malformed: Array<[string, (draftId: string) => [verb: string, data: Record<string, unknown>], string]> = [
    ['a draftId that is not a uuid', (id) => ['wizard.next', { ...fieldsFor(id), draftId: `${id}' or '1'='1` }], INVALID],
    ['a missing draftId', (id) => { const { draftId: _omit, ...rest } = fieldsFor(id); return ['wizard.next', rest]; }, INVALID],
    ['a draftId that is a number', () => ['wizard.resume', { draftId: 42 }], INVALID],
    ['an unknown verb', (id) => ['wizard.delete', { draftId: id }], UNKNOWN_ACTION],
    ['a verb from Object.prototype', (id) => ['constructor', { draftId: id }], UNKNOWN_ACTION],
    ['a step that does not exist', (id) => ['wizard.next', { ...fieldsFor(id), step: 'adminSettings' }], INVALID],
    ['a step name with SQL in it', (id) => ['wizard.next', { ...fieldsFor(id), step: "aboutPerson'; drop table drafts; --" }], INVALID],
    ['a field value that is an object', (id) => ['wizard.next', { ...fieldsFor(id), firstName: { $ne: null } }], INVALID],
    ['a field value that is an array', (id) => ['wizard.next', { ...fieldsFor(id), firstName: ['Jordan', 'Again'] }], INVALID],
    ['a 30,000-character field', (id) => ['wizard.save', { ...fieldsFor(id), address: 'x'.repeat(30_000) }], INVALID],
    ['more than 100 fields', (id) => ['wizard.save', { ...fieldsFor(id), ...Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`extra${i}`, 'x'])) }], INVALID],
  ];

  it.each(malformed)('answers %s with an error card and changes nothing', async (_name, build, message) => {
    const { draftId, resumed } = await alexsDraft();
    const before = await allDrafts();
    const [verb, data] = build(draftId);
    const text = await errorCardFor('alex', verb, data);
    expect(text).toContain(message);
    expect(await allDrafts()).toEqual(before);
    const again = await h.user('alex').execute('wizard.resume', { draftId });
    expect(inputsOf(again)).toEqual(inputsOf(resumed));
  });

  it('answers an unknown command with the help card', async () => {
    const [card] = await h.user('alex').say('blah');
    const lines = cardText(card!).split('\n');
    expect(lines[0]).toBe('What I can do');
    expect(lines[1]).toBe('Sorry, I did not understand "blah".');
    expect(lines).toContain('**refer** — Raise a new concern (a referral)');
  });
});
