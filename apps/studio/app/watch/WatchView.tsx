'use client';

import { useEffect, useRef } from 'react';
import { ConnectionStatus } from '../../components/ConnectionStatus.tsx';
import { FadeOut } from '../../components/FadeOut.tsx';
import { VideoView } from '../../components/VideoView.tsx';
import { createWatchController, type WatchController } from '../../controllers/watchController.ts';
import { fadeRemainingMs, onAirSourceId } from '../../lib/transition.ts';
import { useWatchStore } from '../../stores/watchStore.ts';

export function WatchView({ room }: { room: string }) {
  const controller = useRef<WatchController | null>(null);
  useEffect(() => {
    const created = createWatchController({ room });
    controller.current = created;
    return () => {
      created.dispose();
      controller.current = null;
    };
  }, [room]);

  const s = useWatchStore();
  const onAir = onAirSourceId(s.program);
  const transition = s.program?.transition ?? null;

  return (
    <main className="watch-page">
      <div className="watch-stage">
        <VideoView
          tracks={onAir ? [s.video[onAir], s.audio[onAir]] : []}
          label="Program"
          muted={s.muted}
          className="watch-video"
          onAutoplayBlocked={() => controller.current?.autoplayBlocked()}
        />
        {transition?.fromSourceId ? (
          <FadeOut
            key={`${transition.startedAt}-${transition.toSourceId}`}
            track={s.video[transition.fromSourceId] ?? null}
            durationMs={fadeRemainingMs(transition, Date.now())}
          />
        ) : null}
        {onAir ? null : <p className="off-air">Off air</p>}
      </div>
      {s.error ? (
        <p role="alert" className="error">
          {s.error}
        </p>
      ) : null}
      <footer className="watch-footer">
        <ConnectionStatus state={s.connection} />
        {s.autoplayBlocked ? (
          <button type="button" className="unmute" onClick={() => controller.current?.unmute()}>
            Unmute
          </button>
        ) : null}
      </footer>
    </main>
  );
}
