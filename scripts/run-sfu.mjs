#!/usr/bin/env node
// Runs TypeScript on the provisioned Node.js 24 (mediasoup 3.27 needs Node >= 22; the system
// Node may be older), with the provisioned mediasoup worker. Arguments go to node after tsx.
import { spawn } from 'node:child_process';
import { mediaEnv, readRuntime } from './runtime.mjs';

const runtime = readRuntime();
const child = spawn(runtime.node, ['--import', 'tsx', ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: mediaEnv(runtime),
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
