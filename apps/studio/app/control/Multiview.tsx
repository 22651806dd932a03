'use client';

import { tallyOf } from '@microstudio/protocol';
import type { RefObject } from 'react';
import { VideoView } from '../../components/VideoView.tsx';
import type { ControlController } from '../../controllers/controlController.ts';
import { useControlStore } from '../../stores/controlStore.ts';

export function Multiview({ controller }: { controller: RefObject<ControlController | null> }) {
  const tiles = useControlStore((s) => s.tiles);
  const program = useControlStore((s) => s.program);
  const multiview = useControlStore((s) => s.multiview);
  const levels = useControlStore((s) => s.audioLevels);
  const receive = useControlStore((s) => s.receive);

  return (
    <section aria-label="Multiview" className="multiview">
      {tiles.length === 0 ? <p className="empty">No cameras yet. Open the camera link on a phone.</p> : null}
      {tiles.map((tile) => {
        const tally = program ? tallyOf(program, tile.sourceId) : 'off';
        return (
          <button
            key={tile.sourceId}
            type="button"
            data-tile="true"
            className={`tile tile-${tally}`}
            aria-label={`Preview ${tile.name}`}
            aria-keyshortcuts={tile.number <= 9 ? String(tile.number) : undefined}
            aria-pressed={tally === 'preview'}
            onClick={() => controller.current?.preview(tile.sourceId)}
          >
            <VideoView
              tracks={[multiview[tile.sourceId]]}
              label={`${tile.name} multiview`}
              className="tile-video"
            />
            <span className="tile-caption">
              <span className="tile-number">{tile.number}</span>
              <span className="tile-name">{tile.name}</span>
            </span>
            <span className="tile-meters">
              <meter
                aria-label={`${tile.name} audio level`}
                min={0}
                max={1}
                value={levels[tile.sourceId] ?? 0}
              />
              <span
                role="note"
                aria-label={`${tile.name} connection quality`}
                className={`quality quality-${tile.quality}`}
              >
                {receive[tile.sourceId] ? `${tile.quality} · ${receive[tile.sourceId]}` : tile.quality}
              </span>
            </span>
          </button>
        );
      })}
    </section>
  );
}
