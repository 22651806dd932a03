#!/usr/bin/env node
// `npm start`: the whole studio on one machine — the media node (site role) and the studio web
// app — with embedded defaults. Builds the web app first (cached by Turborepo), waits until both
// answer, prints the links, and stops everything on Ctrl-C / SIGTERM or if one part dies.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { tsImport } from 'tsx/esm/api';
import { mintRecorderToken } from './recorder-token.mjs';
import { mediaEnv, readRuntime, repoRoot } from './runtime.mjs';

const args = new Set(process.argv.slice(2));
// Secrets are made per run unless configured: there is no default password to leak. The node
// signs tokens with the first; the second, in the director link, is traded for a director token.
const env = {
  ...process.env,
  MICROSTUDIO_TOKEN_SECRET: process.env.MICROSTUDIO_TOKEN_SECRET || randomBytes(32).toString('base64url'),
  MICROSTUDIO_ADMIN_SECRET: process.env.MICROSTUDIO_ADMIN_SECRET || randomBytes(18).toString('base64url'),
};
// The recorder gets a `recorder` token for this run's room (its grants only), not the token
// secret: it can read and record that room through the node's recorder API and nothing else.
env.MICROSTUDIO_RECORDER_TOKEN ||= await mintRecorderToken(
  env.MICROSTUDIO_TOKEN_SECRET,
  env.MICROSTUDIO_ROOM || 'main',
);
const sfuPort = Number(env.MICROSTUDIO_SFU_PORT || 4000);
const studioPort = Number(env.MICROSTUDIO_STUDIO_PORT || 3000);
const httpsPort = Number(env.MICROSTUDIO_STUDIO_HTTPS_PORT || 3443);
const room = env.MICROSTUDIO_ROOM || 'main';
const say = (line) => console.log(`\x1b[1m[microstudio]\x1b[0m ${line}`);

const runtime = readRuntime();

if (!args.has('--no-build')) {
  say('building the studio web app (cached after the first run)…');
  const build = spawnSync(
    'bash',
    ['scripts/turbo.sh', 'run', 'build', '--filter=@microstudio/studio', '--output-logs=errors-only'],
    {
      cwd: repoRoot,
      stdio: 'inherit',
    },
  );
  if (build.status !== 0) {
    console.error('[microstudio] the studio build failed (see above)');
    process.exit(1);
  }
}

const children = [];
let stopping = false;
function launch(name, command, commandArgs, options) {
  const child = spawn(command, commandArgs, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  const prefix = (chunk) =>
    chunk
      .toString()
      .split('\n')
      .filter(Boolean)
      .map((l) => `[${name}] ${l}`)
      .join('\n');
  child.stdout.on('data', (d) => console.log(prefix(d)));
  child.stderr.on('data', (d) => console.error(prefix(d)));
  child.on('exit', (code, signal) => {
    if (stopping) return;
    console.error(`[microstudio] ${name} exited (${signal ?? code}); stopping the studio`);
    stop(1);
  });
  children.push(child);
  return child;
}

async function stop(code) {
  if (stopping) return;
  stopping = true;
  for (const child of children) child.kill('SIGTERM');
  await Promise.race([
    Promise.all(
      children.map((c) =>
        c.exitCode !== null || c.signalCode ? null : new Promise((r) => c.once('exit', r)),
      ),
    ),
    sleep(8000),
  ]);
  for (const child of children) if (child.exitCode === null && !child.signalCode) child.kill('SIGKILL');
  process.exit(code);
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));

launch('sfu', runtime.node, ['--import', 'tsx', 'src/main.ts'], {
  cwd: join(repoRoot, 'sfu'),
  env: mediaEnv(runtime, env),
});
launch('studio', process.execPath, ['server.mjs'], { cwd: join(repoRoot, 'apps', 'studio'), env });
// Records what the control room's Record asks for (README: Recorder).
// Without the token and admin secrets: its recorder token is all it holds.
const { MICROSTUDIO_TOKEN_SECRET: _token, MICROSTUDIO_ADMIN_SECRET: _admin, ...recorderEnv } = env;
launch('recorder', process.execPath, ['--import', 'tsx', 'src/main.ts'], {
  cwd: join(repoRoot, 'apps', 'recorder'),
  env: recorderEnv,
});

async function waitFor(url, what) {
  for (let i = 0; i < 300 && !stopping; i++) {
    try {
      const res = await fetch(url);
      if (res.ok) return res;
    } catch {
      // not up yet
    }
    await sleep(200);
  }
  if (!stopping) {
    console.error(`[microstudio] ${what} did not answer at ${url} within 60 s`);
    await stop(1);
  }
}

await waitFor(`http://127.0.0.1:${sfuPort}/healthz`, 'the media node');
const info = await waitFor(
  `http://127.0.0.1:${studioPort}/api/studio-info?room=${encodeURIComponent(room)}`,
  'the studio',
);
if (info) {
  const links = await info.json();
  say('the studio is up');
  // Links printed here carry invites for the whole show day; the control room makes more
  // (with use counts) and revokes them.
  const { TokenIssuer } = await tsImport('@microstudio/auth', import.meta.url);
  const issuer = new TokenIssuer(env.MICROSTUDIO_TOKEN_SECRET);
  const invite = async (role) =>
    (await issuer.issue({ room, role, ttlSeconds: 12 * 3600, label: 'printed by npm start' })).token;
  say(
    `director link (this machine; keep it private): http://localhost:${studioPort}/control?room=${room}#admin=${env.MICROSTUDIO_ADMIN_SECRET}`,
  );
  say(`camera join link (phones on the LAN): ${links.cameraUrl}&invite=${await invite('camera')}`);
  say(`viewer link: ${links.watchUrl}&invite=${await invite('viewer')}`);
  say(
    `phones get a self-signed certificate on https port ${httpsPort}: accept the warning once, or install data/tls/cert.pem as a trusted certificate (README: Troubleshooting).`,
  );
  say('Ctrl-C stops everything.');
}
