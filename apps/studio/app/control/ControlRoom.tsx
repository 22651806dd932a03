'use client';

import { useEffect, useRef } from 'react';
import { ConnectionStatus } from '../../components/ConnectionStatus.tsx';
import { type ControlController, createControlController } from '../../controllers/controlController.ts';
import { useControlStore } from '../../stores/controlStore.ts';
import { CameraJoin } from './CameraJoin.tsx';
import { EdgesPanel } from './EdgesPanel.tsx';
import { GuestsPanel } from './GuestsPanel.tsx';
import { HealthPanel } from './HealthPanel.tsx';
import { Monitors } from './Monitors.tsx';
import { Multiview } from './Multiview.tsx';
import { RecordPanel } from './RecordPanel.tsx';
import { TransitionBar } from './TransitionBar.tsx';

export function ControlRoom({ room }: { room: string }) {
  const controller = useRef<ControlController | null>(null);
  useEffect(() => {
    const created = createControlController({ room });
    controller.current = created;
    const onKey = (event: KeyboardEvent) => {
      const target = event.target instanceof HTMLElement ? event.target : document.body;
      const handled = created.handleKey(event.key, {
        tagName: target.tagName,
        isTile: target.dataset.tile === 'true',
        modifier: event.ctrlKey || event.metaKey || event.altKey,
      });
      if (handled) event.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => {
      window.removeEventListener('keydown', onKey);
      created.dispose();
      controller.current = null;
    };
  }, [room]);

  const connection = useControlStore((s) => s.connection);
  const error = useControlStore((s) => s.error);

  return (
    <main className="control-page">
      <header className="control-header">
        <h1>Control room · {room}</h1>
        <ConnectionStatus state={connection} />
      </header>
      <Monitors />
      <TransitionBar controller={controller} />
      {error ? (
        <p role="alert" className="error">
          {error}
        </p>
      ) : null}
      <Multiview controller={controller} />
      <GuestsPanel controller={controller} />
      <RecordPanel controller={controller} />
      <CameraJoin controller={controller} />
      <HealthPanel />
      <EdgesPanel />
    </main>
  );
}
