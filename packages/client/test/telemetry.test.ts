import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ProgramState, TelemetryReport } from '@microstudio/protocol';
import { Emitter } from '../src/emitter.ts';
import type { ConnectionState } from '../src/session.ts';
import {
  type DeviceFigures,
  framesDecodedFor,
  statsFigures,
  statsSample,
  TelemetryReporter,
  type TelemetrySession,
  videoFrames,
} from '../src/telemetry.ts';

const report = (...stats: unknown[]) => new Map(stats.map((s, i) => [String(i), s]));

/** What a viewer's receive transport reports, `t` seconds in. */
function viewerStats(t: number, extra: { freezeCount?: number } = {}) {
  return report(
    { id: 'T01', type: 'transport', selectedCandidatePairId: 'CP1' },
    { id: 'CP1', type: 'candidate-pair', currentRoundTripTime: 0.012, nominated: true, state: 'succeeded' },
    { id: 'CP2', type: 'candidate-pair', currentRoundTripTime: 0.5, nominated: false, state: 'failed' },
    {
      id: 'IV',
      type: 'inbound-rtp',
      kind: 'video',
      trackIdentifier: 'track-program',
      bytesReceived: 250_000 * t, // 2 Mbit/s
      packetsReceived: 200 * t,
      packetsLost: 2 * t,
      jitter: 0.004,
      framesDecoded: 30 * t,
      totalDecodeTime: 0.06 * t, // 2 ms per frame
      freezeCount: extra.freezeCount ?? 0,
    },
    {
      id: 'IA',
      type: 'inbound-rtp',
      kind: 'audio',
      bytesReceived: 4_000 * t,
      packetsReceived: 50 * t,
      packetsLost: 0,
      jitter: 0.002,
    },
  );
}

/** What a camera's send transport reports: three simulcast layers and the node's receiver reports. */
function cameraStats(t: number) {
  const layer = (rid: string, bytesPerSecond: number) => ({
    id: `O${rid}`,
    type: 'outbound-rtp',
    kind: 'video',
    rid,
    bytesSent: bytesPerSecond * t,
    packetsSent: 100 * t,
    framesEncoded: 30 * t,
    totalEncodeTime: 0.09 * t, // 3 ms per frame
  });
  return report(
    layer('r0', 20_000),
    layer('r1', 60_000),
    layer('r2', 300_000),
    {
      id: 'R0',
      type: 'remote-inbound-rtp',
      kind: 'video',
      packetsLost: 3 * t,
      jitter: 0.006,
      roundTripTime: 0.02,
    },
    {
      id: 'R1',
      type: 'remote-inbound-rtp',
      kind: 'video',
      packetsLost: 0,
      jitter: 0.002,
      roundTripTime: 0.02,
    },
  );
}

describe('statsFigures', () => {
  it('a viewer: RTT of the selected pair, mean jitter, loss, bitrate in, decode time per frame, freezes', () => {
    const previous = statsSample([viewerStats(10)], 10_000);
    const current = statsSample([viewerStats(12, { freezeCount: 1 })], 12_000);
    const figures = statsFigures(previous, current);
    assert.equal(figures.rttMs, 12);
    assert.equal(figures.jitterMs, 3);
    // 4 lost of (400 + 100) received + 4 lost
    assert.ok(Math.abs((figures.packetLossPct ?? 0) - (100 * 4) / 504) < 1e-9);
    assert.equal(figures.bitrateKbps?.in, ((254_000 * 2 * 8) / 2000) * 1);
    assert.equal(figures.bitrateKbps?.out, undefined);
    assert.ok(Math.abs((figures.decodeMsPerFrame ?? 0) - 2) < 1e-9);
    assert.equal(figures.freezes, 1);
    assert.equal(figures.encodeMsPerFrame, undefined);
  });

  it('a camera: bitrate out, encode time per frame, loss, jitter and RTT from the node’s receiver reports', () => {
    const figures = statsFigures(statsSample([cameraStats(1)], 1000), statsSample([cameraStats(3)], 3000));
    assert.equal(figures.bitrateKbps?.out, (380_000 * 2 * 8) / 2000);
    assert.equal(figures.bitrateKbps?.in, undefined);
    assert.ok(Math.abs((figures.encodeMsPerFrame ?? 0) - 3) < 1e-9);
    assert.equal(figures.rttMs, 20);
    assert.equal(figures.jitterMs, 4);
    assert.ok(Math.abs((figures.packetLossPct ?? 0) - (100 * 6) / 606) < 1e-9);
    assert.equal(figures.decodeMsPerFrame, undefined);
    assert.equal(figures.freezes, undefined, 'no freezeCount in the report: no figure');
  });

  it('the first sample has no rates; counters that went backwards (a new connection) count from 0', () => {
    const first = statsFigures(null, statsSample([viewerStats(2)], 2000));
    assert.equal(first.bitrateKbps, undefined);
    assert.ok(first.decodeMsPerFrame !== undefined);
    const restarted = statsFigures(
      statsSample([viewerStats(100)], 1000),
      statsSample([viewerStats(1)], 3000),
    );
    assert.ok((restarted.bitrateKbps?.in ?? -1) >= 0);
    assert.ok(Math.abs((restarted.decodeMsPerFrame ?? 0) - 2) < 1e-9);
  });

  it('nothing to measure: no figures (they are optional in a report)', () => {
    assert.deepEqual(statsFigures(null, statsSample([], 0)), {});
    assert.deepEqual(
      statsFigures(null, statsSample([report({ type: 'codec', id: 'C' }, 'junk', null)], 0)),
      {},
    );
  });

  it('videoFrames counts decoded and encoded frames; framesDecodedFor finds a track', () => {
    assert.equal(videoFrames(statsSample([viewerStats(2)], 0)), 60);
    assert.equal(videoFrames(statsSample([cameraStats(1)], 0)), 90);
    assert.equal(framesDecodedFor(statsSample([viewerStats(2)], 0), 'track-program'), 60);
    assert.equal(framesDecodedFor(statsSample([viewerStats(2)], 0), 'other'), null);
  });
});

// ---- the reporter, against a fake session ------------------------------------------------------

class FakeSession
  extends Emitter<{ state: [ConnectionState]; program: [ProgramState] }>
  implements TelemetrySession
{
  state: ConnectionState = 'connected';
  program: ProgramState | null = null;
  stats: () => Promise<Map<string, unknown>[]> = async () => [viewerStats(Date.now() / 1000)];
  sent: TelemetryReport[] = [];
  accept = true;
  fail = false;

  setState(state: ConnectionState): void {
    this.state = state;
    this.emit('state', state);
  }
  setProgram(program: ProgramState): void {
    this.program = program;
    this.emit('program', program);
  }
  transportStats() {
    return this.stats();
  }
  async sendTelemetry(report: TelemetryReport): Promise<boolean> {
    if (this.fail) throw new Error('socket exploded');
    if (this.state !== 'connected') throw new Error('sent while not connected');
    this.sent.push(report);
    return this.accept;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(check: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await sleep(5);
  }
}

const program = (programSourceId: string | null, revision: number): ProgramState => ({
  programSourceId,
  previewSourceId: null,
  transition: null,
  revision,
});

describe('TelemetryReporter', () => {
  it('reports stats figures with the current hop, and rates from the second report on', async () => {
    const session = new FakeSession();
    let hop: 'site' | 'edge' = 'site';
    const reporter = new TelemetryReporter(session, { hop: () => hop, intervalMs: 20 });
    try {
      await until(() => session.sent.length >= 1);
      assert.equal(session.sent[0]?.hop, 'site');
      assert.equal(session.sent[0]?.rttMs, 12);
      hop = 'edge';
      await until(() => session.sent.length >= 3);
      const last = session.sent.at(-1);
      assert.equal(last?.hop, 'edge');
      assert.ok(last?.bitrateKbps?.in !== undefined);
    } finally {
      reporter.close();
    }
  });

  it('sends nothing while not connected (dropped, not queued) and resumes after', async () => {
    const session = new FakeSession();
    session.state = 'reconnecting';
    const reporter = new TelemetryReporter(session, { hop: 'site', intervalMs: 10 });
    try {
      await sleep(80);
      assert.equal(session.sent.length, 0);
      session.setState('connected');
      await until(() => session.sent.length >= 1);
    } finally {
      reporter.close();
    }
  });

  it('never throws into the page: failing stats, a throwing send, a throwing hop; it keeps going', async () => {
    const session = new FakeSession();
    let calls = 0;
    session.stats = async () => {
      calls += 1;
      if (calls % 2 === 1) throw new Error('getStats failed');
      return [viewerStats(calls)];
    };
    session.fail = true;
    const reporter = new TelemetryReporter(session, {
      hop: () => {
        throw new Error('store gone');
      },
      intervalMs: 10,
    });
    try {
      await sleep(60);
      session.fail = false;
      await until(() => session.sent.length >= 1);
      assert.equal(session.sent[0]?.hop, 'site');
    } finally {
      reporter.close();
    }
  });

  it('times join to first frame once per join', async () => {
    const session = new FakeSession();
    session.state = 'connecting';
    let frames = 0;
    session.stats = async () => [
      report({ id: 'IV', type: 'inbound-rtp', kind: 'video', framesDecoded: frames, trackIdentifier: 't1' }),
    ];
    const reporter = new TelemetryReporter(session, { hop: 'site', intervalMs: 30, pollMs: 10 });
    try {
      session.setState('connected');
      await until(() => session.sent.length >= 1);
      assert.equal(session.sent[0]?.startupMs, undefined, 'no frame yet');
      frames = 5;
      await until(() => session.sent.some((r) => r.startupMs !== undefined));
      const count = session.sent.length;
      await until(() => session.sent.length >= count + 2);
      assert.equal(session.sent.filter((r) => r.startupMs !== undefined).length, 1);
      const startup = session.sent.find((r) => r.startupMs !== undefined)?.startupMs ?? -1;
      assert.ok(startup >= 0 && startup < 2000, String(startup));
    } finally {
      reporter.close();
    }
  });

  it('times a cut to the first new frame of the new program source (not the initial program state)', async () => {
    const session = new FakeSession();
    const frames: Record<string, number> = { 'track-a': 100, 'track-b': 100 };
    session.stats = async () => [
      report(
        {
          id: 'A',
          type: 'inbound-rtp',
          kind: 'video',
          trackIdentifier: 'track-a',
          framesDecoded: frames['track-a'],
        },
        {
          id: 'B',
          type: 'inbound-rtp',
          kind: 'video',
          trackIdentifier: 'track-b',
          framesDecoded: frames['track-b'],
        },
      ),
    ];
    const tracks: Record<string, MediaStreamTrack> = {
      a: { id: 'track-a' } as MediaStreamTrack,
      b: { id: 'track-b' } as MediaStreamTrack,
    };
    const reporter = new TelemetryReporter(session, {
      hop: 'edge',
      intervalMs: 30,
      pollMs: 10,
      videoTrackOf: (id) => tracks[id] ?? null,
      glassToGlass: async (track) => (track.id === 'track-b' ? 140 : null),
    });
    try {
      session.setProgram(program('a', 1)); // initial state: not a cut
      await sleep(50);
      assert.ok(session.sent.every((r) => r.cutToFrameMs === undefined));
      session.setProgram(program('b', 2));
      await sleep(40);
      frames['track-b'] = 101;
      await until(() => session.sent.some((r) => r.cutToFrameMs !== undefined));
      const cut = session.sent.find((r) => r.cutToFrameMs !== undefined);
      assert.ok((cut?.cutToFrameMs ?? -1) >= 30, String(cut?.cutToFrameMs));
      assert.equal(cut?.glassToGlassMs, 140, "the program source's time code");
    } finally {
      reporter.close();
    }
  });

  it('adds device figures and leaves out figures out of bounds rather than lose the report', async () => {
    const session = new FakeSession();
    session.stats = async () => [
      report({
        id: 'CP',
        type: 'candidate-pair',
        currentRoundTripTime: 99,
        nominated: true,
        state: 'succeeded',
      }),
    ];
    const device: DeviceFigures = { battery: { level: 0.3, charging: true }, networkType: 'cellular' };
    const reporter = new TelemetryReporter(session, {
      hop: 'site',
      intervalMs: 10,
      device: true,
      deviceFigures: async () => device,
    });
    try {
      await until(() => session.sent.length >= 1);
      assert.deepEqual(session.sent[0], {
        hop: 'site',
        battery: { level: 0.3, charging: true },
        networkType: 'cellular',
      });
    } finally {
      reporter.close();
    }
  });

  it('stops on close()', async () => {
    const session = new FakeSession();
    const reporter = new TelemetryReporter(session, { hop: 'site', intervalMs: 10 });
    await until(() => session.sent.length >= 1);
    reporter.close();
    reporter.close();
    const count = session.sent.length;
    await sleep(60);
    assert.ok(session.sent.length <= count + 1, 'at most the report in flight');
  });
});
