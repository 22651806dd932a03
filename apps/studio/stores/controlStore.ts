import type { ConnectionState } from '@microstudio/client';
import { DEFAULT_TRANSITION_MS, type Invite, type ProgramState } from '@microstudio/protocol';
import { create } from 'zustand';

/** One multiview tile: a source with a video track, numbered in join order from 1. */
export interface Tile {
  sourceId: string;
  name: string;
  number: number;
  /** Node-side quality of the camera's uplink. */
  quality: string;
}

export interface ControlState {
  room: string;
  connection: ConnectionState;
  tiles: Tile[];
  /** Display names of every source (tiles or not), for the monitor captions. */
  names: Record<string, string>;
  program: ProgramState | null;
  /** Low-layer video per source (multiview). */
  multiview: Record<string, MediaStreamTrack | null>;
  /** Top-layer video per source (monitors): program, preview and a fade's outgoing source. */
  monitors: Record<string, MediaStreamTrack | null>;
  audioLevels: Record<string, number>;
  /** What this control room receives of the multiview feed: "30 fps" or "no frames". */
  receive: Record<string, string>;
  transitionMs: number;
  /** The newest camera invite link and its QR code (made with "New camera invite"). */
  cameraUrl: string | null;
  qrDataUrl: string | null;
  viewerUrl: string | null;
  invites: Invite[];
  error: string | null;
}

export const initialControlState: ControlState = {
  room: 'main',
  connection: 'disconnected',
  tiles: [],
  names: {},
  program: null,
  multiview: {},
  monitors: {},
  audioLevels: {},
  receive: {},
  transitionMs: DEFAULT_TRANSITION_MS,
  cameraUrl: null,
  qrDataUrl: null,
  viewerUrl: null,
  invites: [],
  error: null,
};

/** The /control page's one store. Written by controllers/controlController only. */
export const useControlStore = create<ControlState>()(() => initialControlState);
