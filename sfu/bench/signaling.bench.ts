/**
 * Signaling latency against a real node (2 real mediasoup workers, loopback socket.io):
 *   - program:preview round trips (sequential, one director),
 *   - room:join → transport:create (fresh connection per run, timed from the join request).
 * Prints percentiles; no pass/fail. `npm run bench` (BENCH_PREVIEWS / BENCH_JOINS to resize).
 */
import { connect, joinAs, must, startTestNode, tokenFor } from '../test/helpers.ts';

const PREVIEWS = Number(process.env.BENCH_PREVIEWS ?? 2000);
const JOINS = Number(process.env.BENCH_JOINS ?? 100);

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)] ?? Number.NaN;
}

function row(name: string, samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  const cells = [50, 95, 99].map((p) => percentile(sorted, p).toFixed(3).padStart(9));
  const max = (sorted.at(-1) ?? Number.NaN).toFixed(3).padStart(9);
  return `${name.padEnd(34)}${String(samples.length).padStart(6)}${cells.join('')}${max}`;
}

const node = await startTestNode({
  MICROSTUDIO_MAX_MESSAGES_PER_SECOND: '100000',
  MICROSTUDIO_LOG_LEVEL: 'error',
});
try {
  const cams = await Promise.all(['cam-1', 'cam-2'].map((id) => joinAs(node, 'bench', 'camera', id)));
  const director = await joinAs(node, 'bench', 'director', 'dir');
  // Warm up (JIT, socket buffers).
  for (let i = 0; i < 100; i++)
    await must(director.socket, 'program:preview', { sourceId: i % 2 ? 'cam-1' : 'cam-2' });

  const previews: number[] = [];
  for (let i = 0; i < PREVIEWS; i++) {
    const t0 = performance.now();
    await must(director.socket, 'program:preview', { sourceId: i % 2 ? 'cam-1' : 'cam-2' });
    previews.push(performance.now() - t0);
  }

  const joins: number[] = [];
  const transports: number[] = [];
  for (let i = 0; i < JOINS; i++) {
    const socket = await connect(node);
    const token = await tokenFor(node, 'bench', 'viewer');
    const t0 = performance.now();
    await must(socket, 'room:join', {
      roomId: 'bench',
      token,
      displayName: 'v',
      clientId: `viewer-${i}`,
    });
    const t1 = performance.now();
    await must(socket, 'transport:create', { direction: 'recv' });
    const t2 = performance.now();
    joins.push(t1 - t0);
    transports.push(t2 - t0);
    socket.close();
  }

  console.log(
    `signaling latency, ms (node ${process.version}, workers ${node.pool.size}, loopback websocket)`,
  );
  console.log(
    `${'metric'.padEnd(34)}${'n'.padStart(6)}${'p50'.padStart(9)}${'p95'.padStart(9)}${'p99'.padStart(9)}${'max'.padStart(9)}`,
  );
  console.log(row('program:preview round trip', previews));
  console.log(row('room:join round trip', joins));
  console.log(row('room:join → transport:create', transports));
  for (const c of [...cams, director]) c.socket.close();
} finally {
  await node.close();
}
