/**
 * A local stand-in for the Bot Connector service: the bot POSTs its replies
 * here (the activities carry our serviceUrl) and tests read them back.
 * Responses can be scripted per call (status codes, Retry-After, delays).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SentActivity {
  readonly method: string;
  readonly conversationId: string;
  /** The activity being replied to or updated, if the URL named one. */
  readonly activityId?: string;
  readonly activity: Record<string, unknown> & { type?: string; attachments?: Array<{ contentType: string; content: Record<string, unknown> }> };
  readonly at: number;
  /** The id this connector answered with (what the bot keeps to update the message later). */
  readonly id: string;
}

export type ScriptedResponse = { status: number; retryAfter?: number; delayMs?: number } | undefined;

export class FakeConnector {
  readonly sent: SentActivity[] = [];
  private server: Server | undefined;
  private counter = 0;
  /** Decides the response to each request; undefined → 200 with an id. */
  respond: (req: { method: string; conversationId: string; activity: Record<string, unknown> }) => ScriptedResponse = () => undefined;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const m = /^\/v3\/conversations\/([^/]+)\/activities(?:\/([^/?]+))?/.exec(req.url ?? '');
        let body: Record<string, unknown> = {};
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
        } catch {
          /* leave empty */
        }
        if (!m) {
          res.writeHead(404).end();
          return;
        }
        const conversationId = decodeURIComponent(m[1]!);
        const scripted = this.respond({ method: req.method ?? '', conversationId, activity: body });
        const finish = () => {
          if (scripted && scripted.status >= 300) {
            const headers: Record<string, string> = { 'content-type': 'application/json' };
            if (scripted.retryAfter !== undefined) headers['retry-after'] = String(scripted.retryAfter);
            res.writeHead(scripted.status, headers).end(JSON.stringify({ error: { code: 'Scripted', message: `status ${scripted.status}` } }));
            return;
          }
          const activityId = m[2] ? decodeURIComponent(m[2]) : undefined;
          const id = req.method === 'PUT' && activityId ? activityId : `sent-${++this.counter}`;
          this.sent.push({ method: req.method ?? '', conversationId, ...(activityId ? { activityId } : {}), activity: body as SentActivity['activity'], at: Date.now(), id });
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id }));
        };
        if (scripted?.delayMs) setTimeout(finish, scripted.delayMs);
        else finish();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  /** Adaptive Cards sent into a conversation, oldest first. */
  cardsIn(conversationId: string): Array<Record<string, unknown>> {
    return this.sent
      .filter((s) => s.conversationId === conversationId)
      .flatMap((s) => (s.activity.attachments ?? []).filter((a) => a.contentType === 'application/vnd.microsoft.card.adaptive').map((a) => a.content));
  }

  /** Adaptive Cards sent as replies to one incoming activity (not proactive messages that landed meanwhile). */
  cardsReplyingTo(conversationId: string, activityId: string): Array<Record<string, unknown>> {
    return this.sent
      .filter((s) => s.conversationId === conversationId && (s.activity.replyToId === activityId || s.activityId === activityId))
      .flatMap((s) => (s.activity.attachments ?? []).filter((a) => a.contentType === 'application/vnd.microsoft.card.adaptive').map((a) => a.content));
  }

  clear(): void {
    this.sent.length = 0;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }
}
