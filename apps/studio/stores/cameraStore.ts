import type { ConnectionState, Quality } from '@microstudio/client';
import type { Tally } from '@microstudio/protocol';
import { create } from 'zustand';
import { type DeviceOption, NO_MICROPHONE, TEST_PATTERN } from '../lib/captureDevices.ts';

export interface CameraState {
  room: string;
  name: string;
  videoSource: string;
  microphone: string;
  quality: Quality;
  videoOptions: DeviceOption[];
  micOptions: DeviceOption[];
  previewTrack: MediaStreamTrack | null;
  /** The preview is a front camera: mirror it (as phones do). */
  mirrored: boolean;
  live: boolean;
  busy: boolean;
  connection: ConnectionState;
  tally: Tally;
  error: string | null;
}

export const initialCameraState: CameraState = {
  room: 'main',
  name: '',
  videoSource: TEST_PATTERN,
  /** '' until the devices are known: then the first microphone is chosen. */
  microphone: '',
  quality: 'standard',
  videoOptions: [{ value: TEST_PATTERN, label: 'Test pattern' }],
  micOptions: [{ value: NO_MICROPHONE, label: 'No microphone' }],
  previewTrack: null,
  mirrored: false,
  live: false,
  busy: false,
  connection: 'disconnected',
  tally: 'off',
  error: null,
};

/** The /camera page's one store. Written by controllers/cameraController only. */
export const useCameraStore = create<CameraState>()(() => initialCameraState);
