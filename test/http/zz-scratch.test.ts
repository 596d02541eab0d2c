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
  console.log('declared', await raw(h.url, big, false));
  console.log('chunked', await raw(h.url, big, true));
  const huge = Buffer.alloc(5 * 1024 * 1024, 'x');
  console.log('chunked huge', await raw(h.url, huge, true));
  console.log('declared huge', await raw(h.url, huge, false));
  const r = await fetch(`${h.url}/api/messages`, { method: 'POST', body: big, headers: { 'content-type': 'application/json' } }).then(async (r) => `${r.status} ${await r.text()}`, (e) => `fetch error ${e.message} ${e.cause}`);
  console.log('fetch', r);
  console.log((await fetch(`${h.url}/healthz`)).status);
  await h.stop();
});
