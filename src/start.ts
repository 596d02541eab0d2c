/** Wires the service together: config → database → application → HTTP. Used by src/index.ts and by the tests. */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { openDatabase, type DatabaseHandle } from './db/client.js';
import { BotStateStore } from './db/bot-state-store.js';
import { SafeguardAdapter } from './bot/adapter.js';
import { createBot, proactiveSender } from './bot/app.js';
import { createHttpServer } from './http/server.js';
import { OutboxDeliverer } from './notify/deliverer.js';
import type { AppDeps } from './app/context.js';
import { PeriodicJob } from './notify/periodic.js';
import { runReminderSweep, type SweepResult } from './app/reminders.js';
import { recipientUnreachable } from './app/conversations.js';
import { DownloadLinks } from './http/download-links.js';
import { recordExports, statisticsDownloads } from './bot/statistics-download.js';
import { spendDownloadNonce } from './db/repositories/retention.js';
import { randomBytes } from 'node:crypto';
import { cipherFromSource, installFieldCipher } from './db/field-crypto.js';

export interface RunningService {
  readonly url: string;
  readonly server: Server;
  readonly database: DatabaseHandle;
  readonly deliverer: OutboxDeliverer;
  /** The reminder sweep (tests run it by hand with `runOnce`). */
  readonly sweeper: PeriodicJob<SweepResult>;
  readonly deps: AppDeps;
  /** Stops taking requests, finishes in-flight ones, stops delivery, closes the database. */
  close(): Promise<void>;
}

export interface StartOptions {
  readonly log: Logger;
  readonly now?: () => Date;
  /** Use an already opened (or opening) database instead of opening one. */
  readonly database?: DatabaseHandle | Promise<DatabaseHandle>;
  /** Close the given database on close() (default: only a database this function opened). */
  readonly ownsDatabase?: boolean;
  /** Leave the outbox poller and the reminder sweep off (tests drive them themselves). */
  readonly deliveryPolling?: boolean;
}

/** How long after start the outbox poller and the reminder sweep first run. */
const BACKGROUND_START_DELAY_MS = 2000;

export async function startService(config: Config, opts: StartOptions): Promise<RunningService> {
  const log = opts.log;
  // The repositories seal narrative free text with this cipher: installed before anything is read or written.
  const keys = cipherFromSource(config.fieldKeys);
  if (config.fieldKeys.source === 'localFile') {
    log.warn(
      { keyFile: config.fieldKeys.path, keyId: keys.cipher.currentKeyId },
      keys.created
        ? 'FIELD_ENCRYPTION_KEYS not set: generated a field-encryption key and kept it in the data folder (local use only; keep the file with the data, it cannot be read without it)'
        : 'FIELD_ENCRYPTION_KEYS not set: using the field-encryption key kept in the data folder (local use only)',
    );
  }
  installFieldCipher(keys.cipher);
  const database =
    (await opts.database) ?? (await openDatabase({ databaseUrl: config.databaseUrl, pgliteDataDir: config.pgliteDataDir, poolSize: config.databasePoolSize }));
  const ownsDatabase = opts.ownsDatabase ?? !opts.database;
  const botAppId = config.botAuth.MicrosoftAppId;
  const adapter = new SafeguardAdapter(config.botAuth);

  let deliverer: OutboxDeliverer | undefined;
  const deps: AppDeps = {
    db: database.db,
    directory: config.directory,
    now: opts.now ?? (() => new Date()),
    log,
    messagesQueued: () => deliverer?.kick(),
    transferEscalationWorkingDays: config.transferEscalateAfterWorkingDays,
  };
  deliverer = new OutboxDeliverer({
    db: database.db,
    send: proactiveSender({ adapter, botAppId, deps }),
    log,
    now: deps.now,
    pollMs: config.outboxPollMs,
    leaseMs: config.outboxLeaseMs,
    appShare: 1 / config.instances,
    onUnreachable: (aad, reason, kind) => recipientUnreachable(deps, aad, reason, kind),
  });
  const sweeper = new PeriodicJob({
    name: 'reminder sweep',
    everyMs: config.reminderSweepMs,
    run: () => runReminderSweep(deps, { escalateAfterWorkingDays: config.escalateAfterWorkingDays }),
    log,
  });

  // Links point at PUBLIC_URL, or in a local run at this server's own address (known once it listens).
  let ownUrl = '';
  const links = new DownloadLinks({
    secret: config.downloadLinkSecret ? Buffer.from(config.downloadLinkSecret, 'utf8') : randomBytes(32),
    baseUrl: () => config.publicUrl ?? ownUrl,
    now: deps.now,
    // Spent in the database, so a link works once whichever instance serves it.
    spend: (nonce, expiresAt) => spendDownloadNonce(database.db, nonce, expiresAt, deps.now()),
  });
  const bot = createBot({ deps, adapter, storage: new BotStateStore(database.db), botAppId, csvLinks: links });
  adapter.onTurnError = async (_context, err) => {
    log.error({ err }, 'turn error');
  };
  const server = createHttpServer({
    adapter,
    logic: async (context) => {
      await bot.run(context);
    },
    health: async () => {
      try {
        await database.ping();
        return { ok: true, database: database.kind };
      } catch (err) {
        log.error({ err }, 'health check: database unreachable');
        return { ok: false, database: database.kind };
      }
    },
    statisticsCsv: statisticsDownloads(deps, links),
    recordExport: recordExports(deps, links),
    log,
  });
  server.keepAliveTimeout = 65_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  // The first delivery pass and reminder sweep wait a moment: on the embedded database they
  // would otherwise queue ahead of the first requests (PGlite runs one query at a time).
  // A turn that queues a message still has it sent at once (messagesQueued kicks the deliverer).
  let background: NodeJS.Timeout | undefined;
  if (opts.deliveryPolling !== false) {
    background = setTimeout(() => {
      deliverer.start();
      sweeper.start();
    }, Math.min(BACKGROUND_START_DELAY_MS, config.outboxPollMs, config.reminderSweepMs));
  }
  const { port } = server.address() as AddressInfo;
  const url = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}`;
  ownUrl = url;

  return {
    url,
    server,
    database,
    deliverer,
    sweeper,
    deps,
    close: async () => {
      // server.close() waits for the turns in flight, but a connection whose turn was in flight
      // stays open (keep-alive) once answered, and close() would wait out keepAliveTimeout (65 s):
      // close connections as they fall idle.
      const closeIdle = setInterval(() => server.closeIdleConnections(), 50);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      clearInterval(closeIdle);
      clearTimeout(background);
      await sweeper.stop();
      await deliverer.stop();
      if (ownsDatabase) await database.close();
    },
  };
}
