/**
 * The HTTP edge: POST /api/messages (Bot Framework) and GET /healthz.
 * A bare node:http server: the body is size-limited and parsed here, the
 * activity's shape is checked before botbuilder sees it, authentication
 * failures are 401, malformed requests 400, and nothing a request does can
 * take the process down.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Activity, TurnContext } from 'botbuilder';
import type { Logger } from 'pino';
import { z } from 'zod';
import { AuthenticationFailed, type SafeguardAdapter } from '../bot/adapter.js';

export const MAX_BODY_BYTES = 256 * 1024;

const account = z.object({ id: z.string().min(1).max(200) }).passthrough();
/** The minimum an activity must have before botbuilder is handed it. */
const activityShape = z
  .object({
    type: z.string().min(1).max(50),
    channelId: z.string().min(1).max(50),
    serviceUrl: z.string().url().max(500).refine((u) => /^https?:\/\//i.test(u), 'serviceUrl must be http(s)'),
    conversation: z.object({ id: z.string().min(1).max(500) }).passthrough(),
    from: account,
    recipient: account,
  })
  .passthrough();

/** What a download link gives: the file, or a plain-text reason for the person who clicked it. */
export type DownloadAnswer =
  | { readonly ok: true; readonly filename: string; readonly contentType: string; readonly body: string }
  | { readonly ok: false; readonly status: 403 | 404 | 410; readonly message: string };

export interface HttpOptions {
  readonly adapter: SafeguardAdapter;
  /** `GET /stats/<token>.csv`: the statistics CSV behind a download link. */
  readonly statisticsCsv?: (token: string) => Promise<DownloadAnswer>;
  /** `GET /exports/<token>.json`: a subject-access export behind a download link. */
  readonly recordExport?: (token: string) => Promise<DownloadAnswer>;
  readonly logic: (context: TurnContext) => Promise<void>;
  readonly health: () => Promise<{ ok: boolean; database: string }>;
  readonly log: Logger;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function send(res: ServerResponse, status: number, body?: unknown): void {
  if (res.headersSent) return;
  if (body === undefined) {
    res.writeHead(status).end();
    return;
  }
  const json = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(json) }).end(json);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > MAX_BODY_BYTES) throw new HttpError(413, 'request body too large');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, 'request body too large');
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'body is not JSON');
  }
}

export function createHttpServer(o: HttpOptions): Server {
  const handleMessages = async (req: IncomingMessage, res: ServerResponse) => {
    const body = await readJson(req);
    const shape = activityShape.safeParse(body);
    if (!shape.success) throw new HttpError(400, `not a Bot Framework activity: ${shape.error.issues.map((i) => i.path.join('.') || 'body').join(', ')}`);
    const activity = shape.data as unknown as Activity;
    const authHeader = typeof req.headers.authorization === 'string' ? req.headers.authorization : '';
    try {
      const invokeResponse = await o.adapter.processAuthenticated(authHeader, activity, o.logic);
      send(res, invokeResponse?.status ?? 200, invokeResponse?.body);
    } catch (err) {
      if (err instanceof AuthenticationFailed) {
        o.log.warn({ reason: err.message }, 'request refused: authentication failed');
        throw new HttpError(401, 'unauthorized');
      }
      throw err;
    }
  };

  const handleDownload = async (req: IncomingMessage, res: ServerResponse, token: string, answer: (token: string) => Promise<DownloadAnswer>) => {
    if (req.method !== 'GET') throw new HttpError(405, 'use GET');
    const a = await answer(token);
    // Never cached or sniffed: the file is for whoever holds this link now, once.
    const common = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' };
    if (!a.ok) {
      res.writeHead(a.status, { ...common, 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(a.message) }).end(a.message);
      return;
    }
    res
      .writeHead(200, {
        ...common,
        'content-type': a.contentType,
        'content-disposition': `attachment; filename="${a.filename.replace(/[^A-Za-z0-9._-]/g, '_')}"`,
        'content-length': Buffer.byteLength(a.body),
      })
      .end(a.body);
  };

  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const download = o.statisticsCsv ? /^\/stats\/([^/]{1,1000})\.csv$/.exec(path) : null;
    const exported = o.recordExport ? /^\/exports\/([^/]{1,1000})\.json$/.exec(path) : null;
    const run = async () => {
      if (path === '/api/messages') {
        if (req.method !== 'POST') throw new HttpError(405, 'use POST');
        await handleMessages(req, res);
      } else if (download) {
        await handleDownload(req, res, download[1]!, o.statisticsCsv!);
      } else if (exported) {
        await handleDownload(req, res, exported[1]!, o.recordExport!);
      } else if (path === '/healthz' && (req.method === 'GET' || req.method === 'HEAD')) {
        const h = await o.health();
        send(res, h.ok ? 200 : 503, { status: h.ok ? 'ok' : 'unavailable', database: h.database });
      } else {
        throw new HttpError(404, 'not found');
      }
    };
    run().catch((err: unknown) => {
      if (err instanceof HttpError) {
        // The rest of a refused body is never read, so this connection cannot carry another request:
        // close it, or it stays open (and server.close() waits on it) until the client gives up.
        if (err.status === 413) res.setHeader('connection', 'close');
        send(res, err.status, { error: err.message });
        return;
      }
      o.log.error({ err }, 'request failed');
      send(res, 500, { error: 'internal error' });
    });
  });
}
