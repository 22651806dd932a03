import type { Metadata } from 'next';
import { roomParam, type SearchParams } from '../../lib/query.ts';
import { ControlRoom } from './ControlRoom.tsx';

export const metadata: Metadata = { title: 'Control room · Microstudio' };

export default async function ControlPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  return <ControlRoom room={roomParam(await searchParams)} />;
}
