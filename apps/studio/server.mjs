#!/usr/bin/env node
// The studio web server: Next.js (production build) over plain HTTP and HTTPS, plus a proxy of
// /socket.io (long-polling and WebSocket upgrades) to the media node, so browsers use one origin.
// Runs on the system Node (>= 20.9). Configuration comes from @microstudio/config (TypeScript,
// loaded through tsx's API), so names, defaults and validation are the ones the README lists.
//
//   npm run build -w @microstudio/studio && node apps/studio/server.mjs
//
// Env: MICROSTUDIO_STUDIO_HOST (0.0.0.0), MICROSTUDIO_STUDIO_PORT (3000),
//      MICROSTUDIO_STUDIO_HTTPS_PORT (3443), MICROSTUDIO_SFU_URL (http://127.0.0.1:4000),
//      MICROSTUDIO_DATA_DIR (data, relative to the repository root), MICROSTUDIO_ANNOUNCED_IP.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import next from 'next';
import { tsImport } from 'tsx/esm/api';
import { viewerAssetHandler } from './viewer/assets.mjs';

const appDir = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(appDir, '..', '..');

const { loadConfig, announcedAddress } = await tsImport('@microstudio/config', import.meta.url);
const config = loadConfig(process.env);
const lanAddress = announcedAddress(config.MICROSTUDIO_ANNOUNCED_IP);
const dataDir = isAbsolute(config.MICROSTUDIO_DATA_DIR)
  ? config.MICROSTUDIO_DATA_DIR
  : join(repoRoot, config.MICROSTUDIO_DATA_DIR);
const sfu = new URL(config.MICROSTUDIO_SFU_URL);
const sfuPort = Number(sfu.port || (sfu.protocol === 'https:' ? 443 : 80));
const sfuClient = sfu.protocol === 'https:' ? https : http;

/** A self-signed certificate for localhost, 127.0.0.1 and the LAN address; regenerated when the
 * LAN address is not in it (the venue network changed). */
function ensureCertificate() {
  const dir = join(dataDir, 'tls');
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  const san = [...new Set(['DNS:localhost', 'IP:127.0.0.1', `IP:${lanAddress}`])].join(',');
  if (existsSync(certFile) && existsSync(keyFile)) {
    try {
      const text = execFileSync('openssl', ['x509', '-in', certFile, '-noout', '-ext', 'subjectAltName'], {
        encoding: 'utf8',
      });
      if (text.includes(`IP Address:${lanAddress}`))
        return { cert: readFileSync(certFile), key: readFileSync(keyFile) };
    } catch {
      // Unreadable: make a new one.
    }
  }
  mkdirSync(dir, { recursive: true });
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-sha256',
      '-days',
      '825',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-subj',
      '/CN=Microstudio local',
      '-addext',
      `subjectAltName=${san}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  return { cert: readFileSync(certFile), key: readFileSync(keyFile) };
}

const isSocketIo = (url = '') =>
  url === '/socket.io' || url.startsWith('/socket.io/') || url.startsWith('/socket.io?');

function forwardedHeaders(req) {
  const headers = { ...req.headers, host: sfu.host };
  const prior = req.headers['x-forwarded-for'];
  headers['x-forwarded-for'] = prior
    ? `${prior}, ${req.socket.remoteAddress}`
    : (req.socket.remoteAddress ?? '');
  headers['x-forwarded-proto'] = req.socket.encrypted ? 'https' : 'http';
  return headers;
}

/** socket.io long-polling: a plain HTTP request/response relay. */
function proxyHttp(req, res) {
  const upstream = sfuClient.request(
    {
      hostname: sfu.hostname,
      port: sfuPort,
      method: req.method,
      path: req.url,
      headers: forwardedHeaders(req),
    },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    },
  );
  upstream.on('error', () => {
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
    res.end('media node unreachable');
  });
  req.pipe(upstream);
}

/** Spliced WebSocket connections (servers no longer track them), closed on shutdown. */
const tunnels = new Set();

/** socket.io WebSocket: replay the upgrade request upstream, then splice the two sockets. */
function proxyUpgrade(req, socket, head) {
  tunnels.add(socket);
  socket.on('close', () => tunnels.delete(socket));
  const upstream = net.connect(sfuPort, sfu.hostname, () => {
    const headers = forwardedHeaders(req);
    const lines = [`${req.method} ${req.url} HTTP/1.1`];
    for (const [name, value] of Object.entries(headers)) {
      for (const v of Array.isArray(value) ? value : [value])
        if (v !== undefined) lines.push(`${name}: ${v}`);
    }
    upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
    if (head?.length) upstream.write(head);
    upstream.pipe(socket);
    socket.pipe(upstream);
  });
  const drop = () => {
    upstream.destroy();
    socket.destroy();
  };
  upstream.on('error', drop);
  socket.on('error', drop);
  upstream.on('close', () => socket.destroy());
  socket.on('close', () => upstream.destroy());
}

const app = next({ dev: false, dir: appDir, quiet: true });
await app.prepare();
const handle = app.getRequestHandler();
const serveViewerAsset = viewerAssetHandler(join(appDir, 'public', 'viewer'));

const onRequest = (req, res) => {
  if (isSocketIo(req.url)) return proxyHttp(req, res);
  if (serveViewerAsset(req, res)) return;
  handle(req, res).catch((error) => {
    console.error('request failed', error);
    if (!res.headersSent) res.writeHead(500);
    res.end();
  });
};
const onUpgrade = (req, socket, head) => {
  if (isSocketIo(req.url)) return proxyUpgrade(req, socket, head);
  socket.destroy();
};

const tls = ensureCertificate();
const servers = [http.createServer(onRequest), https.createServer(tls, onRequest)];
for (const server of servers) server.on('upgrade', onUpgrade);

const listen = (server, port) =>
  new Promise((done, fail) => {
    server.once('error', fail);
    server.listen(port, config.MICROSTUDIO_STUDIO_HOST, done);
  });
try {
  await listen(servers[0], config.MICROSTUDIO_STUDIO_PORT);
  await listen(servers[1], config.MICROSTUDIO_STUDIO_HTTPS_PORT);
} catch (error) {
  console.error(`studio could not listen: ${error.message}`);
  process.exit(1);
}
console.log(
  `studio listening on http://localhost:${config.MICROSTUDIO_STUDIO_PORT} and https://${lanAddress}:${config.MICROSTUDIO_STUDIO_HTTPS_PORT}`,
);

let stopping = false;
function stop() {
  if (stopping) return;
  stopping = true;
  const closed = servers.map((server) => new Promise((done) => server.close(done)));
  for (const server of servers) server.closeAllConnections();
  for (const socket of tunnels) socket.destroy();
  setTimeout(() => process.exit(0), 2000).unref();
  Promise.all(closed).finally(() => process.exit(0));
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
