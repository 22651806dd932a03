import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Placement, regionParam } from '../../lib/placement.ts';
import { roomParam } from '../../lib/query.ts';
import { placeViewer } from '../api/placement/place.ts';
import { type ViewerAssets, watchPageHtml } from './html.ts';

export const dynamic = 'force-dynamic';

/** How long rendering the page waits for the fabric's placement before leaving it to the page. */
const PLACEMENT_WAIT_MS = 800;

/** Built by viewer/build.mjs (part of the studio's build) into public/viewer/. */
let assets: Promise<ViewerAssets> | null = null;

function viewerAssets(): Promise<ViewerAssets> {
  assets ??= (async () => {
    const dir = join(process.cwd(), 'public', 'viewer');
    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as {
      script: string;
      chunks: string[];
      stylesheet: string;
    };
    const css = await readFile(join(dir, manifest.stylesheet), 'utf8');
    return { script: manifest.script, chunks: manifest.chunks, css };
  })().catch((error: unknown) => {
    assets = null;
    throw error;
  });
  return assets;
}

/**
 * Where this viewer watches, decided while writing the page (the node is a loopback hop away),
 * so the page connects as soon as its script runs instead of asking /api/placement first. Null
 * when the fabric cannot say now: the page then asks /api/placement itself, as on a failover.
 */
async function initialPlacement(region: string | undefined): Promise<Placement | null> {
  const placed = await placeViewer({ region }, PLACEMENT_WAIT_MS);
  return placed.ok ? placed.placement : null;
}

/** An edge's origin to preconnect to (another origin than the studio's), or null. */
function edgeOrigin(placement: Placement | null): string | null {
  if (placement?.role !== 'edge' || !URL.canParse(placement.url)) return null;
  const url = new URL(placement.url);
  return url.protocol === 'http:' || url.protocol === 'https:' ? url.origin : null;
}

/**
 * GET /watch?room=<room>&invite=<viewer token>[&region=<r>][&at=site]: the viewer's page, a plain
 * HTML page with one script (viewer/main.ts), not a React page — see viewer/main.ts for why.
 */
export async function GET(request: Request): Promise<Response> {
  const query = new URL(request.url).searchParams;
  const first = (name: string) => query.get(name) ?? undefined;
  const region = regionParam(first('region'));
  const atSite = first('at') === 'site';
  const [built, placement] = await Promise.all([
    viewerAssets(),
    atSite ? Promise.resolve(null) : initialPlacement(region),
  ]);
  const html = watchPageHtml(
    { room: roomParam({ room: first('room') }), region, atSite, placement },
    built,
    edgeOrigin(placement),
  );
  return new Response(html, {
    headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' },
  });
}
