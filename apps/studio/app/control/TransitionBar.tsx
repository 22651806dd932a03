'use client';

import type { RefObject } from 'react';
import type { ControlController } from '../../controllers/controlController.ts';
import { useControlStore } from '../../stores/controlStore.ts';

export function TransitionBar({ controller }: { controller: RefObject<ControlController | null> }) {
  const transitionMs = useControlStore((s) => s.transitionMs);
  return (
    <div className="transition-bar">
      <button
        type="button"
        className="cut"
        aria-keyshortcuts="Space Enter"
        onClick={() => controller.current?.cut()}
      >
        Cut
      </button>
      <button type="button" className="auto" aria-keyshortcuts="A" onClick={() => controller.current?.auto()}>
        Auto
      </button>
      <label>
        Duration
        <input
          type="number"
          aria-label="Transition duration (ms)"
          min={100}
          max={5000}
          step={100}
          value={transitionMs}
          onChange={(e) => controller.current?.setTransitionMs(e.target.valueAsNumber)}
        />
      </label>
    </div>
  );
}
