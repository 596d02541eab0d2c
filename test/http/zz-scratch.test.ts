import { it } from 'vitest';
import { request } from 'node:http';
import { Harness } from '../harness/harness.js';
import { createTestDatabase } from '../harness/databases.js';

function raw(url: string, body: Buffer, chunked: boolean): Promise<string> {
  return new Promise((resolve) => {
    const u = new URL(url);
    const req = request({ host: u.hostname, port: u.port, path: '/api/messages', method: 'POST', headers: chunked ? { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } : { 'content-type': 'application/json', 'content-length': body.length } }, (res) => {
      const c: Buffer[] = []; res.on('data', (d) => c.push(d)); res.on('end', () => resolve(`${res.statusCode} ${Buffer.concat(c)}`));
    });
    req.on('error', (e) => resolve(`error ${e.message}`));
    if (chunked) { for (let i = 0; i < body.length; i += 16384) req.write(body.subarray(i, i + 16384)); req.end(); }
    else req.end(body);
  });
}

it('scratch', async () => {
  const db = await createTestDatabase('pglite');
  const h = await Harness.start({ database: await db.open() });
  const big = Buffer.from(JSON.stringify({ type: 'message', text: 'x'.repeat(300 * 1024) }));
  const mode = process.env.SCRATCH_MODE!;
  if (mode === 'declared') console.log(mode, await raw(h.url, big, false));
  if (mode === 'chunked') console.log(mode, await raw(h.url, big, true));
  if (mode === 'fetch') console.log(mode, await fetch(`${h.url}/api/messages`, { method: 'POST', body: big, headers: { 'content-type': 'application/json' } }).then((r) => r.status));
  const huge = Buffer.alloc(5 * 1024 * 1024, 'x');
  if (mode === 'hugechunked') console.log(mode, await raw(h.url, huge, true));
  if (mode === 'hugedeclared') console.log(mode, await raw(h.url, huge, false));
  if (mode === 'all') {
    for (const [n, b, c] of [['declared', big, false], ['chunked', big, true], ['hugechunked', huge, true], ['hugedeclared', huge, false]] as const) {
      const t0 = Date.now(); const r = await raw(h.url, b, c); console.log('STEP', n, r.slice(0, 20), Date.now() - t0);
    }
    const t0 = Date.now();
    console.log('STEP fetch', await fetch(`${h.url}/api/messages`, { method: 'POST', body: big, headers: { 'content-type': 'application/json' } }).then((r) => r.status, (e) => String(e)), Date.now() - t0);
    console.log('STEP health', (await fetch(`${h.url}/healthz`)).status);
  }
  if (mode === 'small') console.log(mode, await raw(h.url, Buffer.from('{}'), false));
  const t = Date.now();
  const timer = setTimeout(() => console.log('STOP HANGS', (h.service.server as any)._connections), 5000);
  await h.stop();
  clearTimeout(timer);
  console.log('stopped in', Date.now() - t);
});
