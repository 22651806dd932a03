/**
 * Playing MediaStreamTracks in a <video>, for the React pages (components/VideoView.tsx) and the
 * plain /watch page (viewer/view.ts) alike.
 */

/** Plays `video`; a refusal to autoplay (with sound) calls `onBlocked`. */
export function play(video: HTMLVideoElement, onBlocked: () => void): void {
  video.play().catch((error: unknown) => {
    if (error instanceof DOMException && error.name === 'NotAllowedError') onBlocked();
  });
}

/**
 * Shows `tracks` (nulls skipped) in `video`: a new stream only when the set of tracks changes,
 * since a new srcObject restarts playback (a blank frame) even for the same tracks.
 */
export function bindTracks(
  video: HTMLVideoElement,
  tracks: readonly (MediaStreamTrack | null | undefined)[],
  onBlocked: () => void,
): void {
  const live = tracks.filter((t): t is MediaStreamTrack => !!t);
  const current = video.srcObject instanceof MediaStream ? video.srcObject.getTracks() : [];
  if (current.length === live.length && live.every((t) => current.includes(t))) return;
  video.srcObject = live.length > 0 ? new MediaStream(live) : null;
  if (live.length > 0) play(video, onBlocked);
}
