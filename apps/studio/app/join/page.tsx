import type { Metadata } from 'next';
import { param, roomParam, type SearchParams } from '../../lib/query.ts';
import { JoinView } from './JoinView.tsx';

export const metadata: Metadata = { title: 'Join as a guest · Microstudio' };

export default async function JoinPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  const params = await searchParams;
  return (
    <JoinView
      room={roomParam(params)}
      name={param(params, 'name') ?? ''}
      source={param(params, 'source') ?? ''}
      color={param(params, 'color') ?? ''}
      quality={param(params, 'quality') ?? ''}
      tone={param(params, 'tone') ?? ''}
    />
  );
}
