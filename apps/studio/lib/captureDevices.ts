import { type Quality, videoConstraints } from '@microstudio/client';

/**
 * The local capture choices a camera (/camera) and a remote guest (/join) offer alike: which
 * video source and which microphone, as select options, and the getUserMedia constraints a
 * choice stands for. Pure, so the choices can be tested without a browser.
 */

export interface DeviceOption {
  value: string;
  label: string;
}

export const TEST_PATTERN = 'test-pattern';
export const NO_MICROPHONE = 'none';

/** A page's device selects: their options and what is chosen. */
export interface DeviceChoices {
  videoOptions: DeviceOption[];
  micOptions: DeviceOption[];
  videoSource: string;
  microphone: string;
}

/** Video source choices: front/back on phones, every camera, and the test pattern. */
export function videoOptionsFrom(devices: readonly MediaDeviceInfo[], phone: boolean): DeviceOption[] {
  const options: DeviceOption[] = [];
  if (phone)
    options.push(
      { value: 'facing:user', label: 'Front camera' },
      { value: 'facing:environment', label: 'Back camera' },
    );
  const cameras = devices.filter((d) => d.kind === 'videoinput');
  cameras.forEach((d, i) => {
    options.push({
      value: `device:${d.deviceId}`,
      label: d.label || (d.deviceId ? `Camera ${i + 1}` : 'Default camera'),
    });
  });
  options.push({ value: TEST_PATTERN, label: 'Test pattern' });
  return dedupe(options);
}

/** Microphone choices: "No microphone" and every input device. */
export function micOptionsFrom(devices: readonly MediaDeviceInfo[]): DeviceOption[] {
  const options: DeviceOption[] = [{ value: NO_MICROPHONE, label: 'No microphone' }];
  devices
    .filter((d) => d.kind === 'audioinput')
    .forEach((d, i) => {
      options.push({
        value: `mic:${d.deviceId}`,
        label: d.label || (d.deviceId ? `Microphone ${i + 1}` : 'Default microphone'),
      });
    });
  return dedupe(options);
}

/** Devices without an id (browsers hide ids before a permission) would give the same option twice. */
function dedupe(options: DeviceOption[]): DeviceOption[] {
  const seen = new Set<string>();
  return options.filter((o) => {
    if (seen.has(o.value)) return false;
    seen.add(o.value);
    return true;
  });
}

/**
 * The selects for the devices listed now. A choice that still exists stays (devices come and go,
 * and labels appear once a permission was granted); a gone one falls back to the first video
 * source and to the first real microphone (the one after "No microphone").
 */
export function deviceChoices(
  devices: readonly MediaDeviceInfo[],
  phone: boolean,
  current: Pick<DeviceChoices, 'videoSource' | 'microphone'>,
): DeviceChoices {
  const videoOptions = videoOptionsFrom(devices, phone);
  const micOptions = micOptionsFrom(devices);
  return {
    videoOptions,
    micOptions,
    videoSource: videoOptions.some((o) => o.value === current.videoSource)
      ? current.videoSource
      : (videoOptions[0]?.value ?? TEST_PATTERN),
    microphone: micOptions.some((o) => o.value === current.microphone)
      ? current.microphone
      : (micOptions[1]?.value ?? NO_MICROPHONE),
  };
}

/**
 * The video source a page opens with: the first camera, or the test pattern when asked for
 * (`?source=test-pattern`: rehearsals, tests) or when there is no camera.
 */
export function initialVideoSource(options: readonly DeviceOption[], wantsPattern: boolean): string {
  const firstCamera = options.find((o) => o.value !== TEST_PATTERN)?.value;
  return wantsPattern || !firstCamera ? TEST_PATTERN : firstCamera;
}

/**
 * getUserMedia video constraints for a camera choice (`facing:…` or `device:…`), and whether its
 * preview is mirrored (a front camera is, as phones show it). A `selfie` webcam (a remote guest's)
 * faces its user: it is always mirrored, and without a device id it asks for the front camera.
 */
export function cameraConstraints(
  source: string,
  quality: Quality,
  selfie: boolean,
): { constraints: MediaTrackConstraints; mirrored: boolean } {
  const constraints: MediaTrackConstraints = { ...videoConstraints(quality) };
  if (source.startsWith('facing:')) {
    const facing = source.slice('facing:'.length);
    constraints.facingMode = { ideal: facing };
    return { constraints, mirrored: selfie || facing === 'user' };
  }
  const deviceId = source.slice('device:'.length);
  if (deviceId) constraints.deviceId = { exact: deviceId };
  else if (selfie) constraints.facingMode = { ideal: 'user' };
  return { constraints, mirrored: selfie };
}

/**
 * getUserMedia audio constraints for a microphone choice (`mic:…`; an empty id is the default
 * microphone), with echo cancellation and noise suppression on; null for "No microphone".
 */
export function microphoneConstraints(value: string): MediaTrackConstraints | null {
  if (value === NO_MICROPHONE) return null;
  const deviceId = value.slice('mic:'.length);
  return {
    ...(deviceId ? { deviceId: { exact: deviceId } } : {}),
    echoCancellation: true,
    noiseSuppression: true,
  };
}
