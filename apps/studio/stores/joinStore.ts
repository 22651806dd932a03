import type { ConnectionState } from '@microstudio/client';
import type { ProgramState, Tally } from '@microstudio/protocol';
import { create } from 'zustand';
import { type DeviceOption, NO_MICROPHONE, TEST_PATTERN } from '../lib/captureDevices.ts';

/**
 * Where a guest is: checking devices, waiting in the green room, live (admitted), or out
 * (rejected, removed, or the invite did not let it in).
 */
export type GuestPhase = 'check' | 'joining' | 'waiting' | 'live' | 'rejected' | 'removed' | 'failed';

export interface JoinState {
  room: string;
  name: string;
  videoSource: string;
  microphone: string;
  videoOptions: DeviceOption[];
  micOptions: DeviceOption[];
  previewTrack: MediaStreamTrack | null;
  mirrored: boolean;
  /** Local microphone level (0..1) for the device check's meter. */
  micLevel: number;
  phase: GuestPhase;
  /** The director muted this guest's microphone (on the node). */
  muted: boolean;
  connection: ConnectionState;
  program: ProgramState | null;
  /** This guest's tally once admitted. */
  tally: Tally;
  /** Program video per source (what the guest watches). */
  video: Record<string, MediaStreamTrack | null>;
  /** Mix-minus: every on-air microphone but this guest's own, by source. */
  audio: Record<string, MediaStreamTrack | null>;
  error: string | null;
}

export const initialJoinState: JoinState = {
  room: 'main',
  name: '',
  videoSource: TEST_PATTERN,
  microphone: '',
  videoOptions: [{ value: TEST_PATTERN, label: 'Test pattern' }],
  micOptions: [{ value: NO_MICROPHONE, label: 'No microphone' }],
  previewTrack: null,
  mirrored: false,
  micLevel: 0,
  phase: 'check',
  muted: false,
  connection: 'disconnected',
  program: null,
  tally: 'off',
  video: {},
  audio: {},
  error: null,
};

/** The /join page's one store. Written by controllers/joinController only. */
export const useJoinStore = create<JoinState>()(() => initialJoinState);
