'use client';

import { FadeOut } from '../../components/FadeOut.tsx';
import { VideoView } from '../../components/VideoView.tsx';
import { fadeRemainingMs, onAirSourceId } from '../../lib/transition.ts';
import { useControlStore } from '../../stores/controlStore.ts';

export function Monitors() {
  const program = useControlStore((s) => s.program);
  const monitors = useControlStore((s) => s.monitors);
  const names = useControlStore((s) => s.names);
  const previewId = program?.previewSourceId ?? null;
  const programId = onAirSourceId(program);
  const transition = program?.transition ?? null;
  const nameOf = (id: string | null) => (id ? (names[id] ?? id) : 'None');

  return (
    <div className="monitors">
      <figure className="monitor monitor-preview">
        <VideoView
          tracks={[previewId ? monitors[previewId] : null]}
          label="Preview monitor"
          className="monitor-video"
        />
        <p role="status" aria-label="Preview source" className="monitor-caption">
          {nameOf(previewId)}
        </p>
      </figure>
      <figure className="monitor monitor-program">
        <div className="monitor-stack">
          <VideoView
            tracks={[programId ? monitors[programId] : null]}
            label="Program monitor"
            className="monitor-video"
          />
          {transition?.fromSourceId ? (
            <FadeOut
              key={`${transition.startedAt}-${transition.toSourceId}`}
              track={monitors[transition.fromSourceId] ?? null}
              durationMs={fadeRemainingMs(transition, Date.now())}
            />
          ) : null}
        </div>
        <p role="status" aria-label="Program source" className="monitor-caption">
          {nameOf(programId)}
        </p>
      </figure>
    </div>
  );
}
