import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RoomSnapshot } from '@microstudio/protocol';
import { stableClientId } from '../src/clientId.ts';
import { feedKey, producerFor } from '../src/feeds.ts';

const room: RoomSnapshot = {
  roomId: 'main',
  sources: [
    {
      sourceId: 'cam-a',
      displayName: 'Cam A',
      quality: 'good',
      tracks: [
        { producerId: 'p-video', kind: 'video', purpose: 'camera', paused: false },
        { producerId: 'p-audio', kind: 'audio', purpose: 'mic', paused: false },
      ],
    },
  ],
  program: { programSourceId: null, previewSourceId: null, transition: null, revision: 0 },
};

describe('feeds', () => {
  it('feedKey() separates layers of the same camera and ignores the layer for a mic', () => {
    assert.notEqual(
      feedKey({ sourceId: 'a', purpose: 'camera', spatialLayer: 0 }),
      feedKey({ sourceId: 'a', purpose: 'camera', spatialLayer: 2 }),
    );
    assert.equal(
      feedKey({ sourceId: 'a', purpose: 'mic', spatialLayer: 0 }),
      feedKey({ sourceId: 'a', purpose: 'mic' }),
    );
  });

  it('producerFor() finds the producer serving a source purpose, or null', () => {
    assert.equal(producerFor(room, { sourceId: 'cam-a', purpose: 'camera' }), 'p-video');
    assert.equal(producerFor(room, { sourceId: 'cam-a', purpose: 'mic' }), 'p-audio');
    assert.equal(producerFor(room, { sourceId: 'cam-b', purpose: 'camera' }), null);
    assert.equal(producerFor(null, { sourceId: 'cam-a', purpose: 'camera' }), null);
  });
});

describe('stableClientId()', () => {
  it('keeps one id per scope in the given storage', () => {
    const map = new Map<string, string>();
    const storage = {
      getItem: (k: string) => map.get(k) ?? null,
      setItem: (k: string, v: string) => void map.set(k, v),
    };
    const first = stableClientId('camera', storage);
    assert.equal(stableClientId('camera', storage), first);
    assert.notEqual(stableClientId('director', storage), first);
  });

  it('replaces a malformed stored id', () => {
    const storage = { getItem: () => 'bad id!', setItem: () => undefined };
    assert.match(stableClientId('camera', storage), /^[\w-]{8,128}$/);
  });
});
