import type { ConnectionState } from '@microstudio/client';
import type { ProgramState } from '@microstudio/protocol';
import { createStore } from 'zustand/vanilla';
import type { Placement } from '../lib/placement.ts';

export interface WatchState {
  room: string;
  connection: ConnectionState;
  program: ProgramState | null;
  /** Top-layer video and mic audio of the sources kept consumed (program, preview, fading out). */
  video: Record<string, MediaStreamTrack | null>;
  audio: Record<string, MediaStreamTrack | null>;
  muted: boolean;
  /** Autoplay with sound was refused: show an Unmute button. */
  autoplayBlocked: boolean;
  /** Why the page cannot show the program (no invite, a refused one). */
  error: string | null;
  /** The node this viewer watches at (an edge, or the site). */
  placement: Placement | null;
  /** At an edge: whether its link to the site is up ('down' shows the "back soon" slate). */
  uplink: 'up' | 'down' | null;
}

export const initialWatchState: WatchState = {
  room: 'main',
  connection: 'disconnected',
  program: null,
  video: {},
  audio: {},
  muted: false,
  autoplayBlocked: false,
  error: null,
  placement: null,
  uplink: null,
};

/**
 * The /watch page's one store (a plain store: the page has no React, see viewer/). Written by
 * controllers/watchController only; rendered by viewer/view.ts.
 */
export const watchStore = createStore<WatchState>()(() => initialWatchState);
