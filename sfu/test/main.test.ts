import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { freeRtcPorts } from './helpers.ts';

const MAIN = new URL('../src/main.ts', import.meta.url).pathname;

function startMain(env: Record<string, string>): ChildProcess {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('MICROSTUDIO_')),
  );
  return spawn(process.execPath, ['--import', 'tsx', MAIN], {
    env: { ...clean, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function collect(child: ChildProcess): { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  return { out: () => out, err: () => err };
}

async function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

test('main.ts prints one listening line with workers, RTC ports and announced address, serves /healthz, and exits 0 on SIGTERM', async () => {
  const rtcPort = await freeRtcPorts(2);
  const sfuPort = await freeRtcPorts(1);
  const child = startMain({
    MICROSTUDIO_SFU_HOST: '127.0.0.1',
    MICROSTUDIO_SFU_PORT: String(sfuPort),
    MICROSTUDIO_RTC_LISTEN_IP: '127.0.0.1',
    MICROSTUDIO_ANNOUNCED_IP: '127.0.0.1',
    MICROSTUDIO_RTC_PORT: String(rtcPort),
    MICROSTUDIO_WORKERS: '2',
    MICROSTUDIO_LOG_LEVEL: 'warn',
  });
  const output = collect(child);
  try {
    await waitFor(() => output.out().includes('sfu listening'), 15_000, 'the listening line');
    assert.equal(
      output.out().trim(),
      `sfu listening on http://127.0.0.1:${sfuPort} (workers: 2, rtc ports ${rtcPort}-${rtcPort + 1}, announced 127.0.0.1)`,
    );
    const health = (await (await fetch(`http://127.0.0.1:${sfuPort}/healthz`)).json()) as {
      status: string;
      workers: unknown[];
    };
    assert.equal(health.status, 'ok');
    assert.equal(health.workers.length, 2);
  } finally {
    child.kill('SIGTERM');
  }
  const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
  assert.equal(signal, null);
  assert.equal(code, 0, output.err());
});

test('main.ts exits 1 with a clear message on invalid configuration', async () => {
  const child = startMain({ MICROSTUDIO_SFU_PORT: 'not-a-port', MICROSTUDIO_TYPO: '1' });
  const output = collect(child);
  const [code] = (await once(child, 'exit')) as [number | null];
  assert.equal(code, 1);
  assert.match(output.err(), /sfu: unknown configuration variable\(s\): MICROSTUDIO_TYPO/);
  const invalid = startMain({ MICROSTUDIO_SFU_PORT: 'not-a-port' });
  const invalidOutput = collect(invalid);
  const [invalidCode] = (await once(invalid, 'exit')) as [number | null];
  assert.equal(invalidCode, 1);
  assert.match(invalidOutput.err(), /sfu: invalid configuration:\n\s+MICROSTUDIO_SFU_PORT/);
});
