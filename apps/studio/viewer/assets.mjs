// Serves the viewer's scripts (public/viewer/*.js, content-hashed by viewer/build.mjs) from memory,
// compressed at build time, ahead of Next.js: Next compresses each response as it sends it and
// tells browsers to ask again every visit, which cost a cold /watch page tens of milliseconds
// per script on a busy box (docs/benchmarks.md, join). A hashed name never changes content, so
// browsers may keep these for a year.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const PREFIX = '/viewer/';
const HEADERS = {
  'content-type': 'text/javascript; charset=utf-8',
  'cache-control': 'public, max-age=31536000, immutable',
  vary: 'Accept-Encoding',
  'x-content-type-options': 'nosniff',
};

/** The encodings a request accepts (q > 0), from its Accept-Encoding header. */
export function acceptedEncodings(header = '') {
  const accepted = new Set();
  for (const part of header.split(',')) {
    const [token = '', ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    if (token && !(q && Number(q.slice(2)) === 0)) accepted.add(token);
  }
  return accepted;
}

/**
 * A request handler for the viewer's scripts in `dir` (read once, with their .br and .gz
 * siblings): it answers GET and HEAD for a script it holds and returns true, else returns false
 * and leaves the request to the next handler (names are matched exactly: no path is resolved).
 */
export function viewerAssetHandler(dir) {
  const files = new Map();
  let names = [];
  try {
    names = readdirSync(dir);
  } catch {
    // Not built: Next answers (404) as before.
  }
  for (const name of names) {
    if (!name.endsWith('.js')) continue;
    const variants = { identity: readFileSync(join(dir, name)) };
    for (const [encoding, suffix] of [
      ['br', '.br'],
      ['gzip', '.gz'],
    ]) {
      if (names.includes(name + suffix)) variants[encoding] = readFileSync(join(dir, name + suffix));
    }
    files.set(PREFIX + name, variants);
  }
  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const path = (req.url ?? '').split('?')[0];
    const variants = files.get(path);
    if (!variants) return false;
    const accepted = acceptedEncodings(req.headers['accept-encoding']);
    const encoding = ['br', 'gzip'].find((e) => variants[e] && accepted.has(e)) ?? 'identity';
    const body = variants[encoding];
    res.writeHead(200, {
      ...HEADERS,
      'content-length': body.byteLength,
      ...(encoding === 'identity' ? {} : { 'content-encoding': encoding }),
    });
    res.end(req.method === 'HEAD' ? undefined : body);
    return true;
  };
}
