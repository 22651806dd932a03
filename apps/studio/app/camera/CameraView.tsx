'use client';

import { QUALITIES, QUALITY_PRESETS } from '@microstudio/client';
import { useEffect, useRef } from 'react';
import { ConnectionStatus } from '../../components/ConnectionStatus.tsx';
import { VideoView } from '../../components/VideoView.tsx';
import { type CameraController, createCameraController } from '../../controllers/cameraController.ts';
import { useCameraStore } from '../../stores/cameraStore.ts';

const TALLY_TEXT = { program: 'Program', preview: 'Preview', off: 'Off' } as const;

export function CameraView(props: {
  room: string;
  name: string;
  source: string;
  color: string;
  quality: string;
}) {
  const controller = useRef<CameraController | null>(null);
  // biome-ignore lint/correctness/useExhaustiveDependencies: the controller lives for the page's lifetime
  useEffect(() => {
    controller.current = createCameraController(props);
    return () => controller.current?.dispose();
  }, []);

  const s = useCameraStore();
  const c = () => controller.current;

  return (
    <main className={`camera-page tally-${s.tally}`}>
      <div role="status" aria-label="Tally" className={`tally-frame tally-${s.tally}`}>
        {TALLY_TEXT[s.tally]}
      </div>
      <header className="camera-header">
        <h1>{s.name || 'Camera'}</h1>
        <ConnectionStatus state={s.connection} />
      </header>
      <VideoView
        tracks={[s.previewTrack]}
        label="Your camera preview"
        mirrored={s.mirrored}
        className="camera-preview"
      />
      <form
        className="camera-form"
        onSubmit={(event) => {
          event.preventDefault();
          c()?.toggleLive();
        }}
      >
        <label>
          Name
          <input
            aria-label="Camera name"
            value={s.name}
            maxLength={64}
            disabled={s.live || s.busy}
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
        <label>
          Quality
          <select aria-label="Quality" value={s.quality} onChange={(e) => c()?.setQuality(e.target.value)}>
            {QUALITIES.map((q) => (
              <option key={q} value={q}>
                {QUALITY_PRESETS[q].label}
              </option>
            ))}
          </select>
        </label>
        {/* Going live needs a source to publish: the button waits for the preview. */}
        <button
          type="submit"
          className={s.live || s.busy ? 'stop' : 'go-live'}
          disabled={!s.live && !s.busy && !s.previewTrack}
        >
          {s.live || s.busy ? 'Stop' : 'Go live'}
        </button>
      </form>
      {s.error ? (
        <p role="alert" className="error">
          {s.error}
        </p>
      ) : null}
    </main>
  );
}
