import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { CutEntry, RecorderState, RecorderStatus, RecordingPlan } from '@microstudio/protocol';
import type { MediaNode } from '../src/node.ts';
import {
  type Client,
  connect,
  joinAs,
  must,
  nextEvent,
  publishCamera,
  rawRequest,
  record,
  request,
  sleep,
  startTestNode,
  tokenFor,
} from './helpers.ts';

const ROOM = 'desk';
/** The recorder's `recorder` token for ROOM (minted once the node is up). */
let SECRET: string;
let node: MediaNode;
let director: Client;
let directorSeen: { name: string; payload: unknown }[];
let camA: Awaited<ReturnType<typeof publishCamera>>;
let camB: Awaited<ReturnType<typeof publishCamera>>;

async function api(
  method: string,
  path: string,
  body?: unknown,
  token = SECRET,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${node.url}/internal/recorder/v1${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

const status = (over: Partial<RecorderStatus> = {}): RecorderStatus => ({
  recorderId: 'box:1',
  at: Date.now(),
  disk: { path: '/rec', freeBytes: 1.5e9, totalBytes: 1e11, warnBytes: 2e9, state: 'low' },
  uploads: { state: 'uploading', bucket: 'b', pending: 7, pendingBytes: 7e6, confirmed: 3, lastError: null },
  tracks: [
    { sourceId: 'cam-a', kind: 'video', state: 'recording', seconds: 12.5, bytes: 1_200_000, segments: 1 },
  ],
  errors: [],
  ...over,
});

const recordFlags = async (): Promise<Record<string, boolean>> => {
  const { json } = await api('GET', `/rooms/${ROOM}/sources`);
  const sources = json.sources as { sourceId: string; record: boolean }[];
  return Object.fromEntries(sources.map((s) => [s.sourceId, s.record]));
};

before(async () => {
  node = await startTestNode();
  SECRET = (await node.auth.issuer.issue({ room: ROOM, role: 'recorder', ttlSeconds: 600 })).token;
  camA = await publishCamera(node, ROOM, 'cam-a');
  camB = await publishCamera(node, ROOM, 'cam-b');
  // Joined by hand: the desk's state arrives with the join, before its acknowledgement.
  director = await connect(node);
  directorSeen = record(director);
  const token = await tokenFor(node, ROOM, 'director');
  await must(director, 'room:join', { roomId: ROOM, token, displayName: 'Dir', clientId: 'dir-1' });
});

after(async () => {
  for (const socket of [director, camA?.socket, camB?.socket]) socket?.disconnect();
  await node?.close();
});

test('a director gets the recording state on join: nothing planned, no recorder yet', async () => {
  const first = directorSeen.find((e) => e.name === 'recorder:state')?.payload as RecorderState | undefined;
  assert.ok(first, 'recorder:state with the join');
  assert.deepEqual(first.plan, { all: false, include: [], exclude: [] });
  assert.equal(first.recorder, null);
  assert.deepEqual(await recordFlags(), { 'cam-a': false, 'cam-b': false });
});

test('record:set records all, excludes one, re-includes it; every change reaches the director and the recorder route', async () => {
  const told = nextEvent(director, 'recorder:state', (s) => s.plan.all);
  const plan: RecordingPlan = await must(director, 'record:set', { on: true });
  assert.deepEqual(plan, { all: true, include: [], exclude: [] });
  assert.equal((await told).plan.all, true);
  assert.deepEqual(await recordFlags(), { 'cam-a': true, 'cam-b': true });

  await must(director, 'record:set', { sourceId: 'cam-b', on: false });
  assert.deepEqual(await recordFlags(), { 'cam-a': true, 'cam-b': false });
  await must(director, 'record:set', { sourceId: 'cam-b', on: true });
  assert.deepEqual(await recordFlags(), { 'cam-a': true, 'cam-b': true });

  // Stop all, then record one source alone.
  await must(director, 'record:set', { on: false });
  assert.deepEqual(await must(director, 'record:set', { sourceId: 'cam-a', on: true }), {
    all: false,
    include: ['cam-a'],
    exclude: [],
  });
  assert.deepEqual(await recordFlags(), { 'cam-a': true, 'cam-b': false });
});

test('record:set refuses a source the room does not have, a camera, and bad payloads, changing nothing', async () => {
  const before = (await api('GET', `/rooms/${ROOM}/sources`)).json.plan;
  const missing = await request(director, 'record:set', { sourceId: 'cam-nope', on: true });
  assert.equal(missing.ok, false);
  assert.ok(!missing.ok && missing.error.code === 'NOT_FOUND', JSON.stringify(missing));
  assert.match(!missing.ok ? missing.error.message : '', /cam-nope/);
  // Not recording a source that is not there is allowed (taking a departed camera out of the plan).
  const off = await must(director, 'record:set', { sourceId: 'cam-gone', on: false });
  assert.deepEqual(off, before);
  const byCamera = await request(camA.socket, 'record:set', { on: true });
  assert.ok(!byCamera.ok && byCamera.error.code === 'FORBIDDEN');
  const bad = await rawRequest(director, 'record:set', { on: 'yes' });
  assert.ok(!bad.ok && bad.error.code === 'BAD_REQUEST', JSON.stringify(bad));
  assert.deepEqual((await api('GET', `/rooms/${ROOM}/sources`)).json.plan, before);
});

test("the recorder's status reaches directors and the node's metrics; a malformed one is refused", async () => {
  const told = nextEvent(director, 'recorder:state', (s) => s.recorder !== null);
  assert.equal((await api('POST', `/rooms/${ROOM}/status`, status())).status, 204);
  const state = await told;
  assert.equal(state.recorder?.uploads.pending, 7);
  assert.ok(state.reportedAt !== null && Math.abs(state.reportedAt - Date.now()) < 5000);
  const metrics = await (await fetch(`${node.url}/metrics`)).text();
  assert.match(metrics, /microstudio_recorder_upload_queue\{room="desk"\} 7/);
  assert.match(metrics, /microstudio_recorder_disk_free_bytes\{room="desk"\} 1500000000/);
  assert.match(metrics, /microstudio_recorder_tracks\{room="desk",state="recording"\} 1/);
  assert.match(metrics, /microstudio_recorder_up\{room="desk"\} 1/);

  const bad = await api('POST', `/rooms/${ROOM}/status`, { ...status(), disk: { path: '/rec' } });
  assert.equal(bad.status, 400);
  assert.match(String(bad.json.error), /disk/);
  const tooMany = status({ errors: Array.from({ length: 11 }, () => ({ at: 1, message: 'x' })) });
  assert.equal((await api('POST', `/rooms/${ROOM}/status`, tooMany)).status, 400);
  // ROOM's token reaches no other room; a token for every room learns that "nope" is not open.
  assert.equal((await api('POST', '/rooms/nope/status', status())).status, 403);
  const anyRoom = (await node.auth.issuer.issue({ room: '*', role: 'recorder', ttlSeconds: 600 })).token;
  assert.equal((await api('POST', '/rooms/nope/status', status(), anyRoom)).status, 404);
  // Still the good report.
  const { json } = await api('GET', `/rooms/${ROOM}/sources`);
  assert.ok(json.plan);
  const again = await nextEvent(director, 'recorder:state', () => true, 100).catch(() => undefined);
  assert.equal(again, undefined, 'refused reports are not broadcast');
});

test('the cut list: every program change once with its time, fades where they start, fetched after a sequence number', async () => {
  const cutsNow = async (after = -1): Promise<{ cuts: CutEntry[]; next: number }> =>
    (await api('GET', `/rooms/${ROOM}/cuts?after=${after}`)).json as unknown as {
      cuts: CutEntry[];
      next: number;
    };
  const start = (await cutsNow()).next;
  await must(director, 'program:preview', { sourceId: 'cam-a' });
  const t0 = Date.now();
  await must(director, 'program:cut', {});
  await must(director, 'program:preview', { sourceId: 'cam-b' });
  await must(director, 'program:auto', { durationMs: 200 });
  await sleep(400); // the fade completes: no second entry for it
  await must(director, 'program:cut', {});
  // A fade taken home early (cut mid-fade) ends where the cut was pressed.
  await must(director, 'program:auto', { durationMs: 2000 });
  await sleep(100);
  await must(director, 'program:cut', {});
  const { cuts, next } = await cutsNow(start - 1);
  assert.deepEqual(
    cuts.map((c) => [c.sourceId, c.kind, c.durationMs]),
    [
      ['cam-a', 'cut', 0],
      ['cam-b', 'fade', 200],
      ['cam-a', 'cut', 0],
      ['cam-b', 'fade', 2000],
      ['cam-b', 'cut', 0],
    ],
  );
  assert.deepEqual(
    cuts.map((c) => c.seq),
    [start, start + 1, start + 2, start + 3, start + 4],
  );
  assert.equal(next, start + 5);
  const early = cuts[4];
  assert.ok(early && cuts[3] && early.atMs - cuts[3].atMs < 1000, 'the early end is where the cut was');
  const first = cuts[0];
  assert.ok(first && first.atMs >= t0 - 5 && first.atMs <= Date.now());
  assert.ok(cuts.every((c, i) => i === 0 || c.atMs >= (cuts[i - 1]?.atMs ?? 0)));
  assert.deepEqual(
    (await cutsNow(start + 3)).cuts.map((c) => c.seq),
    [start + 4],
  );
  assert.equal((await api('GET', `/rooms/${ROOM}/cuts?after=x`)).status, 400);
  assert.equal((await api('GET', `/rooms/${ROOM}/cuts?after=-2`)).status, 400);
});

test('the plan lives on the node: a second director changes the same plan', async () => {
  const other = await joinAs(node, ROOM, 'director', 'dir-2');
  try {
    const plan = await must(other.socket, 'record:set', { sourceId: 'cam-b', on: true });
    assert.deepEqual(plan.include.sort(), ['cam-a', 'cam-b']);
  } finally {
    other.socket.disconnect();
  }
});
