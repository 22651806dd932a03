import {
  type FeedSpec,
  MONITOR_LAYER,
  SourceFeeds,
  StudioSession,
  stableClientId,
  TelemetryReporter,
} from '@microstudio/client';
import { errorText } from '../lib/errorText.ts';
import { inviteFromUrl } from '../lib/invite.ts';
import { createViewerLocator } from '../lib/placement.ts';
import { monitorSourceIds } from '../lib/transition.ts';
import type { WatchOptions } from '../lib/watchOptions.ts';
import { initialWatchState, watchStore } from '../stores/watchStore.ts';

export interface WatchController {
  /** The browser refused to play with sound: fall back to muted playback. */
  autoplayBlocked(): void;
  unmute(): void;
  dispose(): void;
}

/**
 * The /watch page's controller (viewer/main.ts starts it as soon as the page's one script runs):
 * joins as viewer and keeps program and preview consumed so cuts are instant.
 */
export function createWatchController({
  room,
  region,
  atSite = false,
  placement = null,
}: WatchOptions): WatchController {
  const store = watchStore;
  store.setState({ ...initialWatchState, room });
  let token = '';
  try {
    token = inviteFromUrl('viewer');
  } catch (error) {
    store.setState({ error: error instanceof Error ? error.message : String(error) });
  }
  const session = new StudioSession({
    roomId: room,
    token,
    displayName: 'Viewer',
    clientId: stableClientId(`viewer:${room}`),
    // Watch at the nearest edge; after losing it, at another one, without a reload.
    locate: createViewerLocator({
      region,
      atSite,
      initial: placement,
      onPlaced: (placed) => store.setState({ placement: placed }),
    }),
    // A viewer consumes as soon as it joins: its receive transport comes with the join.
    prepareRecv: true,
    // A viewer only watches: no send capabilities to probe while it joins.
    receiveOnly: true,
  });
  const feeds = new SourceFeeds(session);
  // Startup, cut-to-frame, glass-to-glass (test patterns), RTT, loss… to the node's metrics.
  const telemetry = new TelemetryReporter(session, {
    hop: () => store.getState().placement?.role ?? 'site',
    videoTrackOf: (sourceId) => store.getState().video[sourceId] ?? null,
  });

  session.on('state', (connection) => store.setState({ connection }));
  session.on('room', (snapshot) => store.setState({ uplink: snapshot.uplink ?? null }));
  session.on('program', (program) => {
    store.setState({ program });
    const specs: FeedSpec[] = monitorSourceIds(program).flatMap((sourceId): FeedSpec[] => [
      { sourceId, purpose: 'camera', spatialLayer: MONITOR_LAYER },
      { sourceId, purpose: 'mic' },
    ]);
    feeds.setWanted(specs);
  });
  session.on('error', (error) => console.warn('[watch]', error.message));
  feeds.on('track', (key, track) => {
    const [sourceId = '', purpose] = key.split('|');
    if (purpose === 'mic') store.setState((s) => ({ audio: { ...s.audio, [sourceId]: track } }));
    else store.setState((s) => ({ video: { ...s.video, [sourceId]: track } }));
  });
  if (token) {
    session.connect().catch((error: unknown) =>
      store.setState({
        error: `Could not join: ${errorText(error)}`,
      }),
    );
  }

  return {
    autoplayBlocked() {
      store.setState({ muted: true, autoplayBlocked: true });
    },
    unmute() {
      store.setState({ muted: false, autoplayBlocked: false });
    },
    dispose() {
      telemetry.close();
      feeds.close();
      void session.close();
    },
  };
}
