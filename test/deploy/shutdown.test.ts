/**
 * SIGTERM while a turn is in flight, as when App Service (or `docker stop`)
 * stops an instance: the turn finishes (its reply reaches the Bot Connector
 * and its HTTP request is answered), then the process closes and exits 0 —
 * promptly, although the caller keeps its connection alive, as the Bot
 * Connector service does. Found by this test and fixed in src/start.ts: the
 * answered connection stayed open as an idle keep-alive, `server.close()`
 * waited for it and the process was killed by its own 15 s deadline (exit 1)
 * with the outbox and the database never closed.
 *
 * The bot runs as a child process (`node --import tsx src/index.ts`) on the
 * embedded database in a scratch folder, so this runs without PostgreSQL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { Agent, request } from 'node:http';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { BOT_ID, TENANT, people } from '../harness/harness.js';
import { FakeConnector } from '../harness/fake-connector.js';
import { orphanGuard } from '../harness/processes.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) {
    if (/^Microsoft|^DIRECTORY_FILE$|^NODE_ENV$|^OUTBOX_|^REMINDER_|^PORT$|^HOST$|^INSTANCES$|^DATABASE_|^DATA_DIR$|^PGLITE_/.test(k)) delete env[k];
  }
  return { ...env, ...extra };
}

/** POSTs over a kept-alive connection and resolves with the status once the answer has been read. */
function postKeptAlive(agent: Agent, url: string, body: unknown): Promise<number> {
  const json = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(json);
  });
}

describe('SIGTERM with a turn in flight', () => {
  let proc: ChildProcess | undefined;
  let connector: FakeConnector | undefined;
  let dataDir: string | undefined;
  let agent: Agent | undefined;

  afterEach(async () => {
    if (proc && proc.exitCode === null && proc.signalCode === null) {
      const gone = new Promise((resolve) => proc!.once('exit', resolve));
      proc.kill('SIGKILL');
      await gone;
    }
    agent?.destroy();
    await connector?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    proc = connector = dataDir = agent = undefined;
  });

  it('finishes the turn, then exits 0 without waiting for the kept-alive connection', { timeout: 120_000 }, async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'sgd-shutdown-'));
    connector = await new FakeConnector().start();
    const child = spawn(process.execPath, ['--import', orphanGuard, '--import', 'tsx', 'src/index.ts'], {
      cwd: repoRoot,
      env: childEnv({ PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'info' }),
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    proc = child;
    const output: string[] = [];
    const collect = (chunk: Buffer) => output.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

    let url: string | undefined;
    for (const deadline = Date.now() + 60_000; !url; await sleep(50)) {
      if (child.exitCode !== null) throw new Error(`the bot exited during start-up:\n${output.join('\n')}`);
      if (Date.now() > deadline) throw new Error(`the bot did not get ready:\n${output.join('\n')}`);
      const ready = output.find((l) => l.includes('Safeguard Desk is ready'));
      if (ready) url = (JSON.parse(ready) as { url: string }).url;
    }

    // The connector holds the bot's reply to "help" for 1.5 s: the turn is in flight meanwhile.
    const HOLD_MS = 1500;
    const held: number[] = [];
    connector.respond = () => {
      held.push(Date.now());
      return { status: 200, delayMs: HOLD_MS };
    };
    const alex = people.alex;
    const id = `in-${randomUUID()}`;
    agent = new Agent({ keepAlive: true });
    const answered = postKeptAlive(agent, `${url}/api/messages`, {
      type: 'message',
      id,
      text: 'help',
      textFormat: 'plain',
      timestamp: new Date().toISOString(),
      channelId: 'msteams',
      serviceUrl: connector.url,
      from: { id: `29:${alex.aadObjectId}`, name: alex.name, aadObjectId: alex.aadObjectId },
      recipient: { id: BOT_ID, name: 'Safeguard Desk' },
      conversation: { id: `a:personal-${alex.aadObjectId}`, conversationType: 'personal', tenantId: TENANT },
      channelData: { tenant: { id: TENANT } },
      locale: 'en-GB',
    });
    for (const deadline = Date.now() + 10_000; held.length === 0; await sleep(10)) {
      if (Date.now() > deadline) throw new Error(`the reply never reached the connector:\n${output.join('\n')}`);
    }

    child.kill('SIGTERM');
    const status = await answered;
    const answeredAt = Date.now();
    const code = await exited;
    const exitedAt = Date.now();

    expect(status).toBe(200);
    // The reply the turn was sending when SIGTERM came reached the connector.
    expect(connector.cardsReplyingTo(`a:personal-${alex.aadObjectId}`, id)).toHaveLength(1);
    expect(answeredAt - held[0]!).toBeGreaterThanOrEqual(HOLD_MS - 50);
    expect(code, output.slice(-5).join('\n')).toBe(0);
    expect(exitedAt - answeredAt).toBeLessThan(5000);
    expect(output.some((l) => l.includes('shutting down'))).toBe(true);
  });
});
