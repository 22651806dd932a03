import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { createViewerLocator, type Placement } from '../lib/placement.ts';

const ORIGIN = 'http://studio.test:3000';
const edge1: Placement = { nodeId: 'edge1', role: 'edge', region: 'eu', url: 'http://edge1.test:4000' };
const edge2: Placement = { nodeId: 'edge2', role: 'edge', region: 'us', url: 'http://edge2.test:4000' };

const holder = globalThis as { window?: unknown };

/** Stubs fetch with the placements /api/placement answers in turn; returns the URLs asked. */
function answerPlacements(...answers: (Placement | null)[]): string[] {
  const asked: string[] = [];
  mock.method(globalThis, 'fetch', async (input: string | URL | Request) => {
    asked.push(String(input));
    const next = answers.shift() ?? null;
    return next ? Response.json(next) : Response.json({ error: 'no media node' }, { status: 503 });
  });
  return asked;
}

describe('createViewerLocator()', () => {
  beforeEach(() => {
    holder.window = { location: { origin: ORIGIN } };
  });
  afterEach(() => {
    mock.restoreAll();
    delete holder.window;
  });

  it('connects first where the server placed the viewer, without asking; a failover asks without it', async () => {
    const asked = answerPlacements(edge2);
    const placed: Placement[] = [];
    const locate = createViewerLocator({ region: 'eu', initial: edge1, onPlaced: (p) => placed.push(p) });
    assert.equal(await locate({ failover: false }), edge1.url);
    assert.deepEqual(asked, []);
    assert.equal(await locate({ failover: true }), edge2.url);
    assert.deepEqual(asked, ['/api/placement?region=eu&exclude=edge1']);
    assert.deepEqual(
      placed.map((p) => p.nodeId),
      ['edge1', 'edge2'],
    );
  });

  it('uses the server placement once: a retry before any join asks /api/placement again', async () => {
    const asked = answerPlacements(edge1);
    const locate = createViewerLocator({ region: undefined, initial: edge1, onPlaced: () => undefined });
    await locate({ failover: false });
    assert.equal(await locate({ failover: false }), edge1.url);
    assert.deepEqual(asked, ['/api/placement?']);
  });

  it("maps the site to the page's own origin (the studio proxies signaling to it)", async () => {
    answerPlacements();
    const placed: Placement[] = [];
    const site: Placement = { nodeId: 'site', role: 'site', region: 'venue', url: 'http://10.0.0.2:4000' };
    const locate = createViewerLocator({ region: undefined, initial: site, onPlaced: (p) => placed.push(p) });
    assert.equal(await locate({ failover: false }), ORIGIN);
    assert.equal(placed[0]?.url, ORIGIN);
  });

  it('without a server placement asks /api/placement, and falls back to the origin when it cannot say', async () => {
    const asked = answerPlacements(null);
    const locate = createViewerLocator({ region: 'us', initial: null, onPlaced: () => undefined });
    assert.equal(await locate({ failover: false }), ORIGIN);
    assert.deepEqual(asked, ['/api/placement?region=us']);
  });

  it('?at=site never asks and ignores any placement', async () => {
    const asked = answerPlacements(edge1);
    const placed: Placement[] = [];
    const locate = createViewerLocator({
      region: 'eu',
      atSite: true,
      initial: edge1,
      onPlaced: (p) => placed.push(p),
    });
    assert.equal(await locate({ failover: false }), ORIGIN);
    assert.equal(await locate({ failover: true }), ORIGIN);
    assert.deepEqual(asked, []);
    assert.deepEqual(
      placed.map((p) => p.role),
      ['site', 'site'],
    );
  });
});
