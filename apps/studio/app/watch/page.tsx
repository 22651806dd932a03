import type { Metadata } from 'next';
import { regionParam } from '../../lib/placement.ts';
import { param, roomParam, type SearchParams } from '../../lib/query.ts';
import { WatchView } from './WatchView.tsx';

export const metadata: Metadata = { title: 'Watch · Microstudio' };

export default async function WatchPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  const params = await searchParams;
  return (
    <WatchView
      room={roomParam(params)}
      region={regionParam(param(params, 'region'))}
      atSite={param(params, 'at') === 'site'}
    />
  );
}
