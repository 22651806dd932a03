import type { Metadata } from 'next';
import { preconnect } from 'react-dom';
import { type Placement, regionParam } from '../../lib/placement.ts';
import { param, roomParam, type SearchParams } from '../../lib/query.ts';
import { placeViewer } from '../api/placement/place.ts';
import { WatchView } from './WatchView.tsx';

export const metadata: Metadata = { title: 'Watch · Microstudio' };

/** How long rendering the page waits for the fabric's placement before leaving it to the page. */
const PLACEMENT_WAIT_MS = 800;

/**
 * Where this viewer watches, decided while rendering the page (the node is a loopback hop away),
 * so the page connects as soon as its script runs instead of asking /api/placement first. Null
 * when the fabric cannot say now: the page then asks /api/placement itself, as on a failover.
 */
async function initialPlacement(region: string | undefined): Promise<Placement | null> {
  const placed = await placeViewer({ region }, PLACEMENT_WAIT_MS);
  if (!placed.ok) return null;
  const { placement } = placed;
  // An edge is another origin: warm its DNS and TLS while the page's scripts load.
  if (placement.role === 'edge' && URL.canParse(placement.url)) {
    const { protocol } = new URL(placement.url);
    if (protocol === 'http:' || protocol === 'https:')
      preconnect(placement.url, { crossOrigin: 'anonymous' });
  }
  return placement;
}

export default async function WatchPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  const params = await searchParams;
  const region = regionParam(param(params, 'region'));
  const atSite = param(params, 'at') === 'site';
  return (
    <WatchView
      room={roomParam(params)}
      region={region}
      atSite={atSite}
      placement={atSite ? null : await initialPlacement(region)}
    />
  );
}
