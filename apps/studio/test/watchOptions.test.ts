import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseWatchOptions, type WatchOptions, watchOptionsJson } from '../lib/watchOptions.ts';

const edge = { nodeId: 'edge1', role: 'edge', region: 'eu', url: 'https://edge1.example:4443' } as const;

describe('watch page options (data-watch)', () => {
  it('read back what the page wrote, with or without a placement', () => {
    const cases: WatchOptions[] = [
      { room: 'main', region: 'eu', atSite: false, placement: edge },
      { room: 'show-2.b', region: undefined, atSite: true, placement: null },
    ];
    for (const options of cases) assert.deepEqual(parseWatchOptions(watchOptionsJson(options)), options);
  });

  it('is one key for equal options, however they were written', () => {
    const a = watchOptionsJson({ room: 'main', region: undefined });
    const b = watchOptionsJson({ room: 'main', region: undefined, atSite: false, placement: null });
    assert.equal(a, b);
    assert.notEqual(a, watchOptionsJson({ room: 'main', region: 'eu' }));
    // Extra fields of a placement do not count (nor pass).
    const wider = { ...edge, capacity: 3 };
    assert.equal(
      watchOptionsJson({ room: 'main', region: 'eu', placement: wider }),
      watchOptionsJson({ room: 'main', region: 'eu', placement: edge }),
    );
  });

  it('refuses anything not well-formed', () => {
    const good = JSON.parse(watchOptionsJson({ room: 'main', region: 'eu', placement: edge })) as Record<
      string,
      unknown
    >;
    for (const text of [
      null,
      undefined,
      '',
      'not json',
      '[]',
      '"main"',
      JSON.stringify({ ...good, room: 'two words' }),
      JSON.stringify({ ...good, room: 7 }),
      JSON.stringify({ ...good, region: 'EU!' }),
      JSON.stringify({ ...good, atSite: 'yes' }),
      JSON.stringify({ ...good, placement: { nodeId: 'x', role: 'cloud', region: 'eu', url: 'u' } }),
      JSON.stringify({ ...good, placement: 'edge1' }),
    ]) {
      assert.equal(parseWatchOptions(text), null, String(text));
    }
  });
});
