'use client';

import { useEffect, useState } from 'react';
import { VideoView } from './VideoView.tsx';

/** The outgoing source of a fade, laid over the incoming one, going from opaque to clear. */
export function FadeOut({ track, durationMs }: { track: MediaStreamTrack | null; durationMs: number }) {
  const [clear, setClear] = useState(false);
  useEffect(() => {
    const frame = requestAnimationFrame(() => setClear(true));
    return () => cancelAnimationFrame(frame);
  }, []);
  return (
    <VideoView
      tracks={[track]}
      className="fade-layer"
      style={{ opacity: clear ? 0 : 1, transition: `opacity ${durationMs}ms linear` }}
    />
  );
}
