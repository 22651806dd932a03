// Paths of the provisioned runtimes (written by infra/provision/provision.sh).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

/** @returns {{ node: string, mediasoupWorker: string, chromium: string }} */
export function readRuntime() {
  const file = join(repoRoot, '.runtime', 'runtime.json');
  if (!existsSync(file)) {
    console.error(`Microstudio is not provisioned yet (${file} is missing).\n  fix: npm run provision`);
    process.exit(1);
  }
  return JSON.parse(readFileSync(file, 'utf8'));
}

/** Environment for a process that runs mediasoup: it finds the worker through this variable. */
export function mediaEnv(runtime, env = process.env) {
  return { ...env, MEDIASOUP_WORKER_BIN: env.MICROSTUDIO_WORKER_BIN || runtime.mediasoupWorker };
}
