'use client';

import { useEffect, useRef } from 'react';
import { ConnectionStatus } from '../../components/ConnectionStatus.tsx';
import { VideoView } from '../../components/VideoView.tsx';
import { createJoinController, type JoinController } from '../../controllers/joinController.ts';
import { onAirSourceId } from '../../lib/transition.ts';
import { useJoinStore } from '../../stores/joinStore.ts';

const STATUS_TEXT = {
  check: 'Check your camera and microphone',
  joining: 'Joining…',
  waiting: 'Waiting for the director',
  live: 'You are live',
  rejected: 'The director did not let you in',
  removed: 'The director removed you from the show',
  failed: 'Could not join',
} as const;

const TALLY_TEXT = { program: 'On program', preview: 'On preview', off: 'Off air' } as const;

/** Plays one remote microphone (mix-minus: never the guest's own). */
function RemoteAudio({ sourceId, track }: { sourceId: string; track: MediaStreamTrack }) {
  const ref = useRef<HTMLAudioElement>(null);
  useEffect(() => {
    const audio = ref.current;
    if (!audio) return;
    audio.srcObject = new MediaStream([track]);
    void audio.play().catch(() => undefined);
    return () => {
      audio.srcObject = null;
    };
  }, [track]);
  // biome-ignore lint/a11y/useMediaCaption: live speech from the show; no captions exist
  return <audio ref={ref} autoPlay data-source-id={sourceId} />;
}

export function JoinView(props: {
  room: string;
  name: string;
  source: string;
  color: string;
  quality: string;
  tone: string;
}) {
  const controller = useRef<JoinController | null>(null);
  // biome-ignore lint/correctness/useExhaustiveDependencies: the controller lives for the page's lifetime
  useEffect(() => {
    controller.current = createJoinController(props);
    return () => controller.current?.dispose();
  }, []);

  const s = useJoinStore();
  const c = () => controller.current;
  const checking = s.phase === 'check' || s.phase === 'failed';
  const inShow = s.phase === 'waiting' || s.phase === 'live';
  const onAir = onAirSourceId(s.program);
  // On program itself, the guest sees its own picture locally rather than a round trip.
  const programTrack = onAir ? (s.video[onAir] ?? (s.tally === 'program' ? s.previewTrack : null)) : null;

  return (
    <main className="camera-page join-page">
      {s.phase === 'live' ? (
        // Tally, as on a camera: red frame on program, green on preview.
        <div role="status" aria-label="Tally" className={`tally-frame tally-${s.tally}`}>
          {TALLY_TEXT[s.tally]}
        </div>
      ) : null}
      <header className="camera-header">
        <h1>{s.name.trim() || 'Guest'}</h1>
        <ConnectionStatus state={s.connection} />
      </header>
      <p role="status" aria-label="Guest status" className={`guest-status guest-${s.phase}`}>
        {STATUS_TEXT[s.phase]}
      </p>
      {inShow ? (
        <p role="status" aria-label="Microphone" className={s.muted ? 'guest-muted' : 'guest-mic-on'}>
          {s.muted ? 'Muted by the director' : 'Microphone on'}
        </p>
      ) : null}
      {inShow ? (
        <section aria-label="Return feed" className="guest-program">
          <VideoView tracks={[programTrack]} label="Program" className="guest-program-video" />
          {onAir ? null : <p className="off-air">Off air</p>}
          {Object.entries(s.audio).map(([sourceId, track]) =>
            track ? <RemoteAudio key={sourceId} sourceId={sourceId} track={track} /> : null,
          )}
        </section>
      ) : null}
      <section aria-label="Device check" className="guest-check">
        <VideoView
          tracks={[s.previewTrack]}
          label="Your camera preview"
          mirrored={s.mirrored}
          className="camera-preview"
        />
        <meter aria-label="Microphone level" min={0} max={1} value={s.micLevel} className="mic-meter" />
      </section>
      <form
        className="camera-form"
        onSubmit={(event) => {
          event.preventDefault();
          if (checking) c()?.join();
          else c()?.leave();
        }}
      >
        <label>
          Name
          <input
            aria-label="Your name"
            value={s.name}
            maxLength={64}
            disabled={!checking}
            onChange={(e) => c()?.setName(e.target.value)}
          />
        </label>
        <label>
          Video
          <select
            aria-label="Video source"
            value={s.videoSource}
            onChange={(e) => c()?.setVideoSource(e.target.value)}
          >
            {s.videoOptions.map((o) => (
              <option key={o.value} value={o.value}>
                {o.label}
              </option>
            ))}
          </select>
        </label>
        <label>
          Audio
          <select
            aria-label="Microphone"
            value={s.microphone}
            onChange={(e) => c()?.setMicrophone(e.target.value)}
          >
            {s.micOptions.map((o) => (
              <option key={o.value} value={o.value}>
                {o.label}
              </option>
            ))}
          </select>
        </label>
        {checking ? (
          <button type="submit" className="go-live" disabled={!s.previewTrack || !s.name.trim()}>
            Join
          </button>
        ) : s.phase === 'rejected' || s.phase === 'removed' ? null : (
          <button type="submit" className="stop">
            Leave
          </button>
        )}
      </form>
      {s.phase === 'rejected' || s.phase === 'removed' ? (
        <p role="alert" className="error">
          {s.phase === 'rejected'
            ? 'The director did not let you in this time. You can close this page.'
            : 'The director removed you from the show. You can close this page.'}
        </p>
      ) : null}
      {s.error ? (
        <p role="alert" className="error">
          {s.error}
        </p>
      ) : null}
    </main>
  );
}
