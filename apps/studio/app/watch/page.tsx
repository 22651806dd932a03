import type { Metadata } from 'next';
import { roomParam, type SearchParams } from '../../lib/query.ts';
import { WatchView } from './WatchView.tsx';

export const metadata: Metadata = { title: 'Watch · Microstudio' };

export default async function WatchPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  return <WatchView room={roomParam(await searchParams)} />;
}
