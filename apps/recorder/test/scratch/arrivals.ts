import { createSocket } from 'node:dgram';
import { NodeClient } from '../../src/NodeClient.ts';
import { ffmpegCamera, startMediaNode } from '../media.ts';

const SECRET = 'recorder-test-secret-0123';
const node = await startMediaNode(SECRET);
const room = await node.registry.open('show');
const t0 = Date.now();
const camA = await ffmpegCamera(room, 'cam-a');
const camB = await ffmpegCamera(room, 'cam-b');
const client = new NodeClient(node.url, SECRET);
await new Promise((r) => setTimeout(r, 1500));
const sources = await client.sources('show');
const results: Record<string, { at: number; ts: number; m: boolean; len: number }[]> = {};
for (const source of sources) {
  const arr: { at: number; ts: number; m: boolean; len: number }[] = [];
  results[source.sourceId] = arr;
  const sock = createSocket('udp4');
  sock.on('message', (msg) => {
    const pt = msg[1]! & 0x7f;
    if (pt >= 72 && pt <= 76) return;
    arr.push({ at: performance.timeOrigin + performance.now() - t0, ts: msg.readUInt32BE(4), m: (msg[1]! & 0x80) !== 0, len: msg.length });
  });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  const rtcp = createSocket('udp4');
  await new Promise<void>((r) => rtcp.bind(0, '127.0.0.1', r));
  const info = await client.start({ roomId: 'show', producerId: source.tracks[0]!.producerId, ip: '127.0.0.1', rtpPort: sock.address().port, rtcpPort: rtcp.address().port });
  const r = await client.resume(info.recordingId);
  console.log(source.sourceId, 'anchor', r.anchor!.wallClockMs - t0, r.anchor!.rtpTimestamp);
}
await new Promise((r) => setTimeout(r, 25_000));
camA.close(); camB.close();
for (const [id, arr] of Object.entries(results)) {
  const first = arr[0]!;
  console.log(id, 'first at', first.at.toFixed(1), 'ts', first.ts, 'packets', arr.length);
  // offset = arrival - media time; print per second the min offset
  const frames = arr.filter((p) => p.m);
  for (let s = 0; s < 26; s++) {
    const inSec = frames.filter((p) => p.at - first.at >= s * 1000 && p.at - first.at < (s + 1) * 1000);
    if (!inSec.length) continue;
    const off = inSec.map((p) => p.at - first.at - ((p.ts - first.ts) >>> 0) / 90);
    console.log(id, s, 'frames', inSec.length, 'offset min', Math.min(...off).toFixed(1), 'max', Math.max(...off).toFixed(1));
  }
}
await node.close();
process.exit(0);
