import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { publicNode } from '../app/api/fabric/fabricNodes.ts';
import { type EdgeLatencyInput, edgeLatencyCell, formatMs } from '../lib/edgeLatency.ts';

const edge = (extra: Partial<EdgeLatencyInput> = {}): EdgeLatencyInput => ({
  role: 'edge',
  uplink: 'up',
  stale: false,
  ...extra,
});

describe('edge latency cell', () => {
  it('grades the smoothed RTT: good below 50 ms, fair below 150 ms, poor above, in words', () => {
    assert.deepEqual(edgeLatencyCell(edge({ uplinkRttMs: 23.15 })), { text: '23 ms · good', level: 'good' });
    assert.deepEqual(edgeLatencyCell(edge({ uplinkRttMs: 49.4 })), { text: '49 ms · good', level: 'good' });
    // Graded as shown: "50 ms" is fair, whatever the decimals behind it.
    assert.deepEqual(edgeLatencyCell(edge({ uplinkRttMs: 49.6 })), { text: '50 ms · fair', level: 'warn' });
    assert.deepEqual(edgeLatencyCell(edge({ uplinkRttMs: 50 })), { text: '50 ms · fair', level: 'warn' });
    assert.deepEqual(edgeLatencyCell(edge({ uplinkRttMs: 149 })), { text: '149 ms · fair', level: 'warn' });
    assert.deepEqual(edgeLatencyCell(edge({ uplinkRttMs: 150 })), { text: '150 ms · poor', level: 'bad' });
    assert.deepEqual(edgeLatencyCell(edge({ uplinkRttMs: 1250 })), { text: '1,250 ms · poor', level: 'bad' });
  });

  it('adds the recent p95 when the edge reports it', () => {
    assert.deepEqual(edgeLatencyCell(edge({ uplinkRttMs: 1.93, uplinkRttP95Ms: 2.14 })), {
      text: '1.9 ms · good (p95 2.1 ms)',
      level: 'good',
    });
    assert.equal(
      edgeLatencyCell(edge({ uplinkRttMs: 40, uplinkRttP95Ms: 180 })).text,
      '40 ms · good (p95 180 ms)',
    );
  });

  it('is unknown, saying why, when the link is down, the heartbeat stale or no figure came', () => {
    assert.deepEqual(edgeLatencyCell(edge({ uplink: 'down' })), {
      text: 'unknown · link down',
      level: 'unknown',
    });
    // A stale record's figure is old: not shown as if it were now.
    assert.deepEqual(edgeLatencyCell(edge({ stale: true, uplinkRttMs: 20 })), {
      text: 'unknown · no heartbeat',
      level: 'unknown',
    });
    assert.deepEqual(edgeLatencyCell(edge()), { text: 'not measured yet', level: 'unknown' });
    assert.equal(edgeLatencyCell(edge({ uplinkRttMs: Number.NaN })).level, 'unknown');
  });

  it('is n/a on the site (it has no uplink)', () => {
    assert.deepEqual(edgeLatencyCell({ role: 'site', uplink: 'none', stale: false }), {
      text: 'n/a',
      level: 'unknown',
    });
  });

  it('formats tenths only below 10 ms', () => {
    assert.equal(formatMs(0.34), '0.3 ms');
    assert.equal(formatMs(9.94), '9.9 ms');
    assert.equal(formatMs(9.96), '10 ms');
    assert.equal(formatMs(10.4), '10 ms');
  });
});

describe('/api/fabric node allow-list: uplink RTT', () => {
  const record = {
    nodeId: 'edge1',
    role: 'edge',
    region: 'eu',
    publicUrl: 'http://10.0.0.2:4000',
    internalUrl: 'http://10.0.0.2:4000',
    capacity: 500,
    viewers: 0,
    pipes: 1,
    uplink: 'up',
    updatedAt: 1,
  };

  it('passes an edge RTT and its p95 through', () => {
    const node = publicNode({ ...record, uplinkRttMs: 23.15, uplinkRttP95Ms: 31 });
    assert.equal(node?.uplinkRttMs, 23.15);
    assert.equal(node?.uplinkRttP95Ms, 31);
    assert.ok(node && !('internalUrl' in node));
  });

  it('drops a bad figure but keeps the node; a node without one has no such key', () => {
    const bad = publicNode({ ...record, uplinkRttMs: -1, uplinkRttP95Ms: 'fast' });
    assert.ok(bad);
    assert.ok(!('uplinkRttMs' in bad) && !('uplinkRttP95Ms' in bad));
    assert.ok(!('uplinkRttMs' in (publicNode({ ...record, uplinkRttMs: 1e9 }) ?? {})));
    assert.ok(!('uplinkRttMs' in (publicNode(record) ?? {})));
  });
});
