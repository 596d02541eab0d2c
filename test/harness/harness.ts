/**
 * Drives the real service over HTTP the way Teams does: Bot Framework
 * activities POSTed to /api/messages, replies read from a fake Bot Connector.
 * Nothing of ours is mocked.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { loadConfig, type Config } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { startService, type RunningService } from '../../src/start.js';
import type { DatabaseHandle } from '../../src/db/client.js';
import { FakeConnector } from './fake-connector.js';

/**
 * One field-encryption key for every service this test process starts:
 * restarted and second instances must read what the first one sealed.
 */
export const testFieldKeys = {
  FIELD_ENCRYPTION_KEYS: JSON.stringify({ test1: randomBytes(32).toString('base64') }),
  FIELD_ENCRYPTION_CURRENT_KEY_ID: 'test1',
} as const;

export const TENANT = '11111111-2222-3333-4444-555555555555';
export const BOT_ID = '28:safeguard-desk-bot';

/** The demo directory's people (src/demo/directory.json). */
export const people = {
  alex: { aadObjectId: '00000000-0000-0000-0000-0000000000020', name: 'Alex Wilber' }, // referrer
  megan: { aadObjectId: '00000000-0000-0000-0000-0000000000021', name: 'Megan Bowen' }, // officer, northgate
  adele: { aadObjectId: '00000000-0000-0000-0000-0000000000022', name: 'Adele Vance' }, // officer, southbridge
  isaiah: { aadObjectId: '00000000-0000-0000-0000-0000000000023', name: 'Isaiah Langer' }, // supervisor, both
  patti: { aadObjectId: '00000000-0000-0000-0000-0000000000024', name: 'Patti Fernandez' }, // analyst
  lynne: { aadObjectId: '00000000-0000-0000-0000-0000000000025', name: 'Lynne Robbins' }, // officer, training lapsed
  nestor: { aadObjectId: '00000000-0000-0000-0000-0000000000026', name: 'Nestor Wilke' }, // supervisor, eastfield
  grady: { aadObjectId: '00000000-0000-0000-0000-0000000000027', name: 'Grady Archie' }, // supervisor, eastfield
  johanna: { aadObjectId: '00000000-0000-0000-0000-0000000000028', name: 'Johanna Lorenz' }, // officer, eastfield
  lidia: { aadObjectId: '00000000-0000-0000-0000-0000000000029', name: 'Lidia Holloway' }, // partner
  stranger: { aadObjectId: '99999999-0000-0000-0000-000000000099', name: 'Sam Stranger' }, // not in the directory
} as const;

export type Card = Record<string, unknown>;

export interface HttpReply {
  readonly status: number;
  readonly body: unknown;
}

/** Captures log lines so tests can read them. */
export class LogCapture extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _enc: string, cb: () => void): void {
    this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    cb();
  }
  get text(): string {
    return this.lines.join('\n');
  }
}

export interface HarnessOptions {
  readonly database: DatabaseHandle;
  readonly now?: () => Date;
  readonly env?: Record<string, string>;
  readonly connector?: FakeConnector;
}

export class Harness {
  private constructor(
    readonly service: RunningService,
    readonly connector: FakeConnector,
    readonly logs: LogCapture,
    private readonly ownsConnector: boolean,
  ) {}

  static async start(o: HarnessOptions): Promise<Harness> {
    const connector = o.connector ?? (await new FakeConnector().start());
    const config: Config = loadConfig({ PORT: '0', LOG_LEVEL: 'info', OUTBOX_POLL_MS: '60000', ...testFieldKeys, ...o.env });
    const logs = new LogCapture();
    const log = createLogger('info', logs);
    const service = await startService(config, { log, database: o.database, now: o.now, deliveryPolling: false });
    return new Harness(service, connector, logs, !o.connector);
  }

  get url(): string {
    return this.service.url;
  }

  user(who: keyof typeof people | { aadObjectId: string; name: string }): TeamsUser {
    const p = typeof who === 'string' ? people[who] : who;
    return new TeamsUser(this, p.aadObjectId, p.name);
  }

  /** POSTs a raw body to /api/messages. */
  async post(body: unknown, headers: Record<string, string> = {}): Promise<HttpReply> {
    const res = await fetch(`${this.url}/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      /* keep text */
    }
    return { status: res.status, body: parsed };
  }

  /** Delivers every queued proactive message now. */
  async deliverOutbox(): Promise<void> {
    // A commit that queued messages nudges the deliverer in the background; let it finish, then sweep.
    await this.service.deliverer.idle();
    await this.service.deliverer.drain();
    // Delivering can queue more (a notice that someone is unreachable), sent by a pass it kicked.
    await this.service.deliverer.idle();
  }

  async stop(): Promise<void> {
    await this.service.close();
    if (this.ownsConnector) await this.connector.stop();
  }
}

/** One Teams user in a personal chat with the bot. */
export class TeamsUser {
  readonly conversationId: string;
  private seq = 0;
  constructor(
    private readonly h: Harness,
    readonly aadObjectId: string,
    readonly name: string,
  ) {
    this.conversationId = `a:personal-${aadObjectId}`;
  }

  /** The common part of every activity Teams sends from this user. */
  base(): Record<string, unknown> {
    return {
      id: `in-${randomUUID()}`,
      timestamp: new Date().toISOString(),
      channelId: 'msteams',
      serviceUrl: this.h.connector.url,
      from: { id: `29:${this.aadObjectId}`, name: this.name, aadObjectId: this.aadObjectId },
      recipient: { id: BOT_ID, name: 'Safeguard Desk' },
      conversation: { id: this.conversationId, conversationType: 'personal', tenantId: TENANT },
      channelData: { tenant: { id: TENANT } },
      locale: 'en-GB',
    };
  }

  /** The bot is installed for this user (Teams sends conversationUpdate with the bot added). */
  async install(): Promise<HttpReply> {
    return this.h.post({ ...this.base(), type: 'conversationUpdate', membersAdded: [{ id: BOT_ID }] });
  }

  /**
   * Sends a chat message; returns the cards the bot replied with — replies to
   * this message only, not a proactive notice that reached the chat meanwhile.
   */
  async say(text: string): Promise<Card[]> {
    const base = this.base();
    const reply = await this.h.post({ ...base, type: 'message', text, textFormat: 'plain' });
    if (reply.status !== 200) throw new Error(`message answered ${reply.status}: ${JSON.stringify(reply.body)}`);
    return this.h.connector.cardsReplyingTo(this.conversationId, String(base.id));
  }

  /** The last card the bot sent into this chat. */
  lastCard(): Card | undefined {
    return this.h.connector.cardsIn(this.conversationId).at(-1);
  }

  /** Presses an Action.Execute button: an `adaptiveCard/action` invoke; returns the raw HTTP reply. */
  async invoke(verb: string, data: Record<string, unknown>): Promise<HttpReply> {
    this.seq += 1;
    return this.h.post({
      ...this.base(),
      type: 'invoke',
      name: 'adaptiveCard/action',
      replyToId: `card-${this.seq}`,
      value: { action: { type: 'Action.Execute', verb, data }, trigger: 'manual' },
    });
  }

  /** Presses an Action.Execute button and returns the card that replaces it. */
  async execute(verb: string, data: Record<string, unknown>): Promise<Card> {
    const r = await this.invoke(verb, data);
    const body = r.body as { statusCode?: number; type?: string; value?: Card } | undefined;
    if (r.status !== 200 || body?.type !== 'application/vnd.microsoft.card.adaptive' || !body.value) {
      throw new Error(`invoke ${verb} answered ${r.status}: ${JSON.stringify(r.body).slice(0, 500)}`);
    }
    return body.value;
  }
}
