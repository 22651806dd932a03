'use client';

import { useEffect, useRef } from 'react';
import { ConnectionStatus } from '../../components/ConnectionStatus.tsx';
import { FadeOut } from '../../components/FadeOut.tsx';
import { VideoView } from '../../components/VideoView.tsx';
import { createWatchController, type WatchController } from '../../controllers/watchController.ts';
import type { Placement } from '../../lib/placement.ts';
import { fadeRemainingMs, onAirSourceId } from '../../lib/transition.ts';
import { watchOptionsJson } from '../../lib/watchOptions.ts';
import { useWatchStore } from '../../stores/watchStore.ts';

export function WatchView({
  room,
  region,
  atSite,
  placement,
}: {
  room: string;
  region: string | undefined;
  atSite: boolean;
  /** Where the server placed this viewer (null: the page asks /api/placement). */
  placement: Placement | null;
}) {
  const controller = useRef<WatchController | null>(null);
  useEffect(() => {
    const created = createWatchController({ room, region, atSite, placement });
    controller.current = created;
    return () => {
      created.dispose();
      controller.current = null;
    };
  }, [room, region, atSite, placement]);

  const s = useWatchStore();
  const onAir = onAirSourceId(s.program);
  const transition = s.program?.transition ?? null;

  return (
    // data-watch (WATCH_OPTIONS_ATTRIBUTE): what the controller started before hydration reads.
    <main className="watch-page" data-watch={watchOptionsJson({ room, region, atSite, placement })}>
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
        {s.uplink === 'down' ? (
          <div className="slate" role="status" aria-label="Back soon">
            <p className="slate-title">Back soon</p>
            <p>The link to the studio dropped. The show resumes here by itself.</p>
          </div>
        ) : null}
      </div>
      {s.error ? (
        <p role="alert" className="error">
          {s.error}
        </p>
      ) : null}
      <footer className="watch-footer">
        <ConnectionStatus state={s.connection} />
        {s.placement ? (
          <p className="serving-node" role="note" aria-label="Serving node">
            {s.placement.role === 'edge'
              ? `Edge ${s.placement.nodeId} · ${s.placement.region}`
              : 'Studio site'}
          </p>
        ) : null}
        {s.autoplayBlocked ? (
          <button type="button" className="unmute" onClick={() => controller.current?.unmute()}>
            Unmute
          </button>
        ) : null}
      </footer>
    </main>
  );
}
