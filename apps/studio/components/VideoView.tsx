'use client';

import { type CSSProperties, useEffect, useRef } from 'react';
import { bindTracks, play } from '../lib/videoTracks.ts';

export interface VideoViewProps {
  /** Tracks to play together (video, and optionally audio). Null entries are skipped. */
  tracks: readonly (MediaStreamTrack | null | undefined)[];
  label?: string;
  muted?: boolean;
  mirrored?: boolean;
  className?: string;
  style?: CSSProperties;
  hidden?: boolean;
  /** Called when the browser refuses to autoplay with sound. */
  onAutoplayBlocked?: () => void;
}

/** A <video> bound to MediaStreamTracks: a new stream only when the set of tracks changes. */
export function VideoView({
  tracks,
  label,
  muted = true,
  mirrored,
  className,
  style,
  hidden,
  onAutoplayBlocked,
}: VideoViewProps) {
  const ref = useRef<HTMLVideoElement>(null);
  const live = tracks.filter((t): t is MediaStreamTrack => !!t);
  const ids = live.map((t) => t.id).join(',');
  const liveRef = useRef(live);
  liveRef.current = live;
  const blockedRef = useRef(onAutoplayBlocked);
  blockedRef.current = onAutoplayBlocked;

  // biome-ignore lint/correctness/useExhaustiveDependencies: the stream changes when the track ids change
  useEffect(() => {
    const video = ref.current;
    if (!video) return;
    bindTracks(video, liveRef.current, () => blockedRef.current?.());
  }, [ids]);

  useEffect(() => {
    const video = ref.current;
    if (!video) return;
    video.muted = muted;
    if (video.srcObject && (video.paused || !muted)) play(video, () => blockedRef.current?.());
  }, [muted]);

  return (
    <video
      ref={ref}
      aria-label={label}
      aria-hidden={label ? undefined : true}
      autoPlay
      playsInline
      muted={muted}
      className={className}
      hidden={hidden}
      style={{ ...(mirrored ? { transform: 'scaleX(-1)' } : {}), ...style }}
    />
  );
}
