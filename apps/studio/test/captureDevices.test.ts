import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  cameraConstraints,
  deviceChoices,
  initialVideoSource,
  micOptionsFrom,
  microphoneConstraints,
  NO_MICROPHONE,
  TEST_PATTERN,
  videoOptionsFrom,
} from '../lib/captureDevices.ts';

const device = (kind: MediaDeviceKind, deviceId: string, label = ''): MediaDeviceInfo => ({
  kind,
  deviceId,
  label,
  groupId: '',
  toJSON: () => ({}),
});

const listed = [
  device('videoinput', 'cam-a', 'FaceTime HD'),
  device('videoinput', 'cam-b'),
  device('audioinput', 'mic-a', 'Built-in'),
  device('audioinput', 'mic-b'),
  device('audiooutput', 'out-a', 'Speakers'),
];

/** What a browser lists before a permission: devices without ids or labels. */
const hidden = [device('videoinput', ''), device('videoinput', ''), device('audioinput', '')];

describe('capture device choices', () => {
  it('lists every camera and the test pattern, with front/back first on phones', () => {
    assert.deepEqual(videoOptionsFrom(listed, false), [
      { value: 'device:cam-a', label: 'FaceTime HD' },
      { value: 'device:cam-b', label: 'Camera 2' },
      { value: TEST_PATTERN, label: 'Test pattern' },
    ]);
    assert.deepEqual(
      videoOptionsFrom(listed, true).map((o) => o.value),
      ['facing:user', 'facing:environment', 'device:cam-a', 'device:cam-b', TEST_PATTERN],
    );
    assert.deepEqual(videoOptionsFrom([], false), [{ value: TEST_PATTERN, label: 'Test pattern' }]);
  });

  it('lists "No microphone" and every input, not the outputs', () => {
    assert.deepEqual(micOptionsFrom(listed), [
      { value: NO_MICROPHONE, label: 'No microphone' },
      { value: 'mic:mic-a', label: 'Built-in' },
      { value: 'mic:mic-b', label: 'Microphone 2' },
    ]);
  });

  it('gives devices without ids one default option each', () => {
    assert.deepEqual(videoOptionsFrom(hidden, false), [
      { value: 'device:', label: 'Default camera' },
      { value: TEST_PATTERN, label: 'Test pattern' },
    ]);
    assert.deepEqual(micOptionsFrom(hidden), [
      { value: NO_MICROPHONE, label: 'No microphone' },
      { value: 'mic:', label: 'Default microphone' },
    ]);
  });

  it('keeps choices that still exist and falls back to the first source and first real microphone', () => {
    const kept = deviceChoices(listed, false, { videoSource: 'device:cam-b', microphone: NO_MICROPHONE });
    assert.equal(kept.videoSource, 'device:cam-b');
    assert.equal(kept.microphone, NO_MICROPHONE);
    const gone = deviceChoices(listed, false, { videoSource: 'device:unplugged', microphone: '' });
    assert.equal(gone.videoSource, 'device:cam-a');
    assert.equal(gone.microphone, 'mic:mic-a');
    assert.deepEqual(gone.videoOptions, videoOptionsFrom(listed, false));
    assert.deepEqual(gone.micOptions, micOptionsFrom(listed));
    const none = deviceChoices([], false, { videoSource: 'device:cam-a', microphone: 'mic:mic-a' });
    assert.equal(none.videoSource, TEST_PATTERN);
    assert.equal(none.microphone, NO_MICROPHONE);
  });

  it('opens with the first camera, or the test pattern when asked for or when there is none', () => {
    assert.equal(initialVideoSource(videoOptionsFrom(listed, false), false), 'device:cam-a');
    assert.equal(initialVideoSource(videoOptionsFrom(listed, true), false), 'facing:user');
    assert.equal(initialVideoSource(videoOptionsFrom(listed, false), true), TEST_PATTERN);
    assert.equal(initialVideoSource(videoOptionsFrom([], false), false), TEST_PATTERN);
  });
});

describe('capture constraints', () => {
  const size = { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 } };

  it('asks a camera for a device or a facing; only a front camera is mirrored', () => {
    assert.deepEqual(cameraConstraints('device:cam-a', 'standard', false), {
      constraints: { ...size, deviceId: { exact: 'cam-a' } },
      mirrored: false,
    });
    assert.deepEqual(cameraConstraints('device:', 'standard', false), { constraints: size, mirrored: false });
    assert.deepEqual(cameraConstraints('facing:user', 'standard', false), {
      constraints: { ...size, facingMode: { ideal: 'user' } },
      mirrored: true,
    });
    assert.deepEqual(cameraConstraints('facing:environment', 'standard', false), {
      constraints: { ...size, facingMode: { ideal: 'environment' } },
      mirrored: false,
    });
  });

  it("mirrors a guest's webcam and asks for the front camera when no device is named", () => {
    assert.deepEqual(cameraConstraints('device:cam-a', 'standard', true), {
      constraints: { ...size, deviceId: { exact: 'cam-a' } },
      mirrored: true,
    });
    assert.deepEqual(cameraConstraints('device:', 'standard', true), {
      constraints: { ...size, facingMode: { ideal: 'user' } },
      mirrored: true,
    });
  });

  it('asks for the chosen microphone with voice processing, and for none with "No microphone"', () => {
    assert.deepEqual(microphoneConstraints('mic:mic-a'), {
      deviceId: { exact: 'mic-a' },
      echoCancellation: true,
      noiseSuppression: true,
    });
    assert.deepEqual(microphoneConstraints('mic:'), { echoCancellation: true, noiseSuppression: true });
    assert.equal(microphoneConstraints(NO_MICROPHONE), null);
  });
});
