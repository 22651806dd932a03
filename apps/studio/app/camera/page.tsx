import type { Metadata } from 'next';
import { param, roomParam, type SearchParams } from '../../lib/query.ts';
import { CameraView } from './CameraView.tsx';

export const metadata: Metadata = { title: 'Camera · Microstudio' };

export default async function CameraPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  const params = await searchParams;
  return (
    <CameraView
      room={roomParam(params)}
      name={param(params, 'name') ?? ''}
      source={param(params, 'source') ?? ''}
      color={param(params, 'color') ?? ''}
      quality={param(params, 'quality') ?? ''}
    />
  );
}
