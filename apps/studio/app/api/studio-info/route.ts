import { studioInfo } from '../../../lib/studioInfo.ts';

export const dynamic = 'force-dynamic';

/** GET /api/studio-info?room=main → {cameraUrl, controlUrl, watchUrl, joinUrl} (LAN https links). */
export function GET(request: Request): Response {
  const room = new URL(request.url).searchParams.get('room');
  return Response.json(studioInfo(room), { headers: { 'Cache-Control': 'no-store' } });
}
