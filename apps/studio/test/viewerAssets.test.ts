import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib';
import { acceptedEncodings, viewerAssetHandler } from '../viewer/assets.mjs';

const script = 'export const answer = 42;\n'.repeat(100);

describe('the viewer scripts, served ahead of Next (viewer/assets.mjs)', () => {
  let dir: string;
  let server: Server;
  let base: string;
  let passedOn: string[];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'viewer-assets-'));
    await writeFile(join(dir, 'watch-ABC.js'), script);
    await writeFile(join(dir, 'watch-ABC.js.br'), brotliCompressSync(script));
    await writeFile(join(dir, 'watch-ABC.js.gz'), gzipSync(script));
    await writeFile(join(dir, 'chunk-PLAIN.js'), 'export {};\n');
    await writeFile(join(dir, 'manifest.json'), '{}');
    const serve = viewerAssetHandler(dir);
    passedOn = [];
    server = createServer((req, res) => {
      if (serve(req, res)) return;
      passedOn.push(`${req.method} ${req.url}`);
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    server.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** A raw GET (fetch would decompress and hide the encoding). */
  async function get(path: string, acceptEncoding: string, method = 'GET') {
    const { request } = await import('node:http');
    return new Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }>(
      (resolve, reject) => {
        const req = request(
          `${base}${path}`,
          { method, headers: { 'accept-encoding': acceptEncoding } },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () =>
              resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
            );
          },
        );
        req.on('error', reject);
        req.end();
      },
    );
  }

  it('sends the build-time brotli, else gzip, else the plain file, cacheable for a year', async () => {
    const br = await get('/viewer/watch-ABC.js', 'gzip, deflate, br');
    assert.equal(br.status, 200);
    assert.equal(br.headers['content-encoding'], 'br');
    assert.equal(brotliDecompressSync(br.body).toString(), script);
    assert.equal(br.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal(br.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(br.headers.vary, 'Accept-Encoding');
    assert.equal(br.headers['x-content-type-options'], 'nosniff');

    const gz = await get('/viewer/watch-ABC.js', 'gzip, br;q=0');
    assert.equal(gz.headers['content-encoding'], 'gzip');
    assert.equal(gunzipSync(gz.body).toString(), script);

    const plain = await get('/viewer/watch-ABC.js?v=1', 'identity');
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.equal(plain.body.toString(), script);
    assert.equal(plain.headers['content-length'], String(Buffer.byteLength(script)));

    // A script built without compressed siblings goes plain whatever the browser accepts.
    const uncompressed = await get('/viewer/chunk-PLAIN.js', 'br, gzip');
    assert.equal(uncompressed.headers['content-encoding'], undefined);
    assert.equal(uncompressed.body.toString(), 'export {};\n');

    const head = await get('/viewer/watch-ABC.js', 'br', 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.body.byteLength, 0);
  });

  it('leaves every other request to Next: other files, unknown names, paths, methods', async () => {
    passedOn.length = 0;
    for (const path of [
      '/viewer/manifest.json',
      '/viewer/watch-ABC.js.br',
      '/viewer/missing.js',
      '/viewer/..%2Fviewer/watch-ABC.js',
      '/viewer/%2e%2e/server.mjs',
      '/watch-ABC.js',
    ]) {
      assert.equal((await get(path, 'br')).status, 404, path);
    }
    assert.equal((await get('/viewer/watch-ABC.js', 'br', 'POST')).status, 404);
    assert.equal(passedOn.length, 7, passedOn.join('\n'));
  });

  it('reads Accept-Encoding with its q-values', () => {
    assert.deepEqual([...acceptedEncodings('gzip, deflate, br')], ['gzip', 'deflate', 'br']);
    assert.deepEqual([...acceptedEncodings('br;q=0, gzip;q=0.5')], ['gzip']);
    assert.deepEqual([...acceptedEncodings('BR; Q=0.0')], []);
    assert.deepEqual([...acceptedEncodings(undefined)], []);
  });

  it('answers nothing when the viewer is not built', () => {
    const serve = viewerAssetHandler(join(dir, 'not-there'));
    const req = { method: 'GET', url: '/viewer/watch-ABC.js', headers: {} } as IncomingMessage;
    assert.equal(serve(req, {} as ServerResponse), false);
  });
});
