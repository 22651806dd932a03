import type { ConnectionState } from '@microstudio/client';
import {
  DEFAULT_TRANSITION_MS,
  type Guest,
  type HealthSources,
  type Invite,
  type ProgramState,
  type RecorderStatus,
  type RecordingPlan,
} from '@microstudio/protocol';
import { create } from 'zustand';
import type { FabricNode } from '../app/api/fabric/fabricNodes.ts';
import { DEFAULT_INVITE_TTL_SECONDS } from '../lib/inviteOptions.ts';

/** One multiview tile: a source with a video track, numbered in join order from 1. */
export interface Tile {
  sourceId: string;
  name: string;
  number: number;
  /** Node-side quality of the camera's uplink. */
  quality: string;
}

/** One media node of the Edges panel: its fabric record and how old its last heartbeat is. */
export interface EdgeRow extends FabricNode {
  /** Seconds since the node's last heartbeat (studio server clock). */
  ageSeconds: number;
  /** No heartbeat for more than 5 s. */
  stale: boolean;
  /** viewers ≥ capacity: placement sends new viewers elsewhere. */
  full: boolean;
}

/** The Edges panel (the fabric's nodes, polled from /api/fabric every 2 s). */
export interface EdgesState {
  /** At least one answer (or failure) came back. */
  loaded: boolean;
  /** Every node, site and edges, by node id; kept (ageing) while the fabric answers errors. */
  nodes: EdgeRow[];
  /** How many of `nodes` are edges (0: viewers watch at the site). */
  edgeCount: number;
  /** The last poll's failure, null after a good answer. */
  error: string | null;
}

/** The Record panel: the room's plan and the recorder's latest status (`recorder:state`). */
export interface RecordingState {
  /** What the room records (kept on the node; Record all / per source). */
  plan: RecordingPlan;
  /** The recorder's latest status; null until one reported for this room. */
  recorder: RecorderStatus | null;
  /** Node wall clock when that status arrived. */
  reportedAt: number | null;
  /** No status, or none for RECORDER_STALE_MS: "Recorder not reporting" (re-checked every second). */
  stale: boolean;
  /** Names of every source seen this session: a planned source that left keeps its name. */
  seenNames: Record<string, string>;
  /** The last record:set failure in words; null after a success. */
  error: string | null;
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
  /** The newest guest invite link and its QR code (made with "New guest invite"). */
  guestUrl: string | null;
  guestQrDataUrl: string | null;
  invites: Invite[];
  /** The director's choices for the next invite link: its lifetime, and its use count as typed
   * ('' = the role's default: one device for a guest, any number otherwise). */
  inviteTtlSeconds: number;
  inviteUses: string;
  /** MICROSTUDIO_MAX_INVITE_USES as the studio reports it (the count field's bound); null until known. */
  maxInviteUses: number | null;
  /** Links of the invites made in this tab, by invite id: the node lists invites without tokens. */
  inviteLinks: Record<string, string>;
  /** The invite whose link was just copied (its button says "Copied"), or null. */
  copied: string | null;
  /** The green room and the admitted guests (pushed by the node). */
  guests: Guest[];
  edges: EdgesState;
  /** The node's latest health:sources (directors get one every 2 s); null before the first. */
  health: HealthSources | null;
  recording: RecordingState;
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
  guestUrl: null,
  guestQrDataUrl: null,
  invites: [],
  inviteTtlSeconds: DEFAULT_INVITE_TTL_SECONDS,
  inviteUses: '',
  maxInviteUses: null,
  inviteLinks: {},
  copied: null,
  guests: [],
  edges: { loaded: false, nodes: [], edgeCount: 0, error: null },
  health: null,
  recording: {
    plan: { all: false, include: [], exclude: [] },
    recorder: null,
    reportedAt: null,
    stale: true,
    seenNames: {},
    error: null,
  },
  error: null,
};

/** The /control page's one store. Written by controllers/controlController only. */
export const useControlStore = create<ControlState>()(() => initialControlState);
