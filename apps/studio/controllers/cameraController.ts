import {
  type CanvasTestPattern,
  createTestPattern,
  type Publication,
  parseHexColor,
  parseQuality,
  QUALITY_PRESETS,
  type Quality,
  StudioSession,
  stableClientId,
  TelemetryReporter,
  videoConstraints,
} from '@microstudio/client';
import { tallyOf } from '@microstudio/protocol';
import { inviteFromUrl } from '../lib/invite.ts';
import {
  type DeviceOption,
  initialCameraState,
  NO_MICROPHONE,
  TEST_PATTERN,
  useCameraStore,
} from '../stores/cameraStore.ts';

export interface CameraParams {
  room: string;
  name?: string;
  source?: string;
  color?: string;
  quality?: string;
}

export interface CameraController {
  setName(name: string): void;
  setVideoSource(value: string): void;
  setMicrophone(value: string): void;
  setQuality(value: string): void;
  toggleLive(): void;
  dispose(): void;
}

const isPhone = () =>
  typeof navigator !== 'undefined' &&
  navigator.maxTouchPoints > 0 &&
  /Android|iPhone|iPad|Mobile/i.test(navigator.userAgent);

const describeError = (error: unknown) => (error instanceof Error ? error.message : String(error));

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

function dedupe(options: DeviceOption[]): DeviceOption[] {
  const seen = new Set<string>();
  return options.filter((o) => {
    if (seen.has(o.value)) return false;
    seen.add(o.value);
    return true;
  });
}

/** The /camera page: picks devices, previews, goes live as a source, follows its tally. */
export function createCameraController(params: CameraParams): CameraController {
  const store = useCameraStore;
  const color = parseHexColor(params.color) ?? undefined;
  const wantsPattern = params.source === TEST_PATTERN;
  store.setState({
    ...initialCameraState,
    room: params.room,
    name: (params.name ?? '').trim().slice(0, 64) || 'Camera',
    quality: parseQuality(params.quality),
  });

  let disposed = false;
  let pattern: CanvasTestPattern | null = null;
  let cameraTrack: MediaStreamTrack | null = null;
  let micTrack: MediaStreamTrack | null = null;
  let session: StudioSession | null = null;
  let telemetry: TelemetryReporter | null = null;
  let videoPub: Publication | null = null;
  let micPub: Publication | null = null;
  let wakeLock: WakeLockSentinel | null = null;
  let previewToken = 0;

  const fail = (error: unknown) => store.setState({ error: describeError(error) });

  async function refreshDevices(): Promise<void> {
    if (!navigator.mediaDevices?.enumerateDevices) return;
    try {
      const devices = await navigator.mediaDevices.enumerateDevices();
      if (disposed) return;
      const videoOptions = videoOptionsFrom(devices, isPhone());
      const micOptions = micOptionsFrom(devices);
      const { videoSource, microphone } = store.getState();
      store.setState({
        videoOptions,
        micOptions,
        videoSource: videoOptions.some((o) => o.value === videoSource)
          ? videoSource
          : (videoOptions[0]?.value ?? TEST_PATTERN),
        microphone: micOptions.some((o) => o.value === microphone)
          ? microphone
          : (micOptions[1]?.value ?? NO_MICROPHONE),
      });
    } catch (error) {
      fail(error);
    }
  }

  function stopPreviewTracks(): void {
    pattern?.stop();
    pattern = null;
    cameraTrack?.stop();
    cameraTrack = null;
  }

  /** (Re)acquires the preview track for the selected source and quality. */
  async function startPreview(): Promise<void> {
    const token = ++previewToken;
    const { videoSource, quality, name } = store.getState();
    const preset = QUALITY_PRESETS[quality];
    let track: MediaStreamTrack;
    let mirrored = false;
    let next: CanvasTestPattern | null = null;
    try {
      if (videoSource === TEST_PATTERN) {
        next = createTestPattern({
          name,
          width: preset.width,
          height: preset.height,
          fps: preset.frameRate,
          ...(color ? { color } : {}),
        });
        track = next.track;
      } else {
        const constraints: MediaTrackConstraints = { ...videoConstraints(quality) };
        if (videoSource.startsWith('facing:')) {
          constraints.facingMode = { ideal: videoSource.slice('facing:'.length) };
          mirrored = videoSource === 'facing:user';
        } else {
          const deviceId = videoSource.slice('device:'.length);
          if (deviceId) constraints.deviceId = { exact: deviceId };
        }
        const stream = await navigator.mediaDevices.getUserMedia({ video: constraints, audio: false });
        const [videoTrack] = stream.getVideoTracks();
        if (!videoTrack) throw new Error('the camera gave no video track');
        track = videoTrack;
      }
    } catch (error) {
      if (token === previewToken) fail(error);
      return;
    }
    if (disposed || token !== previewToken) {
      next?.stop();
      track.stop();
      return;
    }
    const old = { pattern, cameraTrack };
    pattern = next;
    cameraTrack = next ? null : track;
    store.setState({ previewTrack: track, mirrored, error: null });
    if (session && videoPub) {
      // Live: swap the published video for the new one.
      await session.unpublish(videoPub).catch(fail);
      videoPub = null;
      try {
        videoPub = await session.publish(track, 'camera', { quality });
      } catch (error) {
        fail(error);
      }
    }
    old.pattern?.stop();
    old.cameraTrack?.stop();
    if (!next) void refreshDevices(); // Labels appear once a permission was granted.
  }

  async function acquireMic(): Promise<MediaStreamTrack | null> {
    const { microphone } = store.getState();
    if (microphone === NO_MICROPHONE || !navigator.mediaDevices?.getUserMedia) return null;
    const deviceId = microphone.slice('mic:'.length);
    const stream = await navigator.mediaDevices.getUserMedia({
      audio: {
        ...(deviceId ? { deviceId: { exact: deviceId } } : {}),
        echoCancellation: true,
        noiseSuppression: true,
      },
      video: false,
    });
    return stream.getAudioTracks()[0] ?? null;
  }

  async function publishMic(): Promise<void> {
    if (!session) return;
    if (micPub) await session.unpublish(micPub).catch(fail);
    micPub = null;
    micTrack?.stop();
    micTrack = null;
    try {
      micTrack = await acquireMic();
      if (micTrack && session) micPub = await session.publish(micTrack, 'mic');
    } catch (error) {
      fail(error);
    }
  }

  async function acquireWakeLock(): Promise<void> {
    if (!store.getState().live || document.visibilityState !== 'visible' || !('wakeLock' in navigator))
      return;
    if (wakeLock && !wakeLock.released) return;
    try {
      wakeLock = await navigator.wakeLock.request('screen');
    } catch {
      // Not allowed (battery saver, insecure context): the page still works.
    }
  }
  const onVisibility = () => void acquireWakeLock();
  document.addEventListener('visibilitychange', onVisibility);

  async function goLive(): Promise<void> {
    const { room, name, previewTrack, quality } = store.getState();
    if (!previewTrack) {
      fail(new Error('no video source'));
      return;
    }
    let token: string;
    try {
      token = inviteFromUrl('camera');
    } catch (error) {
      fail(error);
      return;
    }
    store.setState({ busy: true, error: null });
    const clientId = stableClientId(`camera:${room}`);
    const current = new StudioSession({
      roomId: room,
      token,
      displayName: name.trim() || 'Camera',
      clientId,
    });
    session = current;
    // Cameras publish to the site; battery and network type where the browser exposes them.
    telemetry?.close();
    telemetry = new TelemetryReporter(current, { hop: 'site', device: true });
    current.on('state', (connection) => store.setState({ connection }));
    current.on('program', (program) => store.setState({ tally: tallyOf(program, clientId) }));
    current.on('error', (error) => console.warn('[camera]', error.message));
    store.setState({ connection: current.state });
    try {
      await current.connect();
      if (session !== current) return;
      videoPub = await current.publish(previewTrack, 'camera', { quality });
      store.setState({ live: true, busy: false });
      await publishMic();
      await acquireWakeLock();
    } catch (error) {
      if (session === current) {
        fail(error);
        await stopLive();
      }
    }
  }

  async function stopLive(): Promise<void> {
    const current = session;
    session = null;
    telemetry?.close();
    telemetry = null;
    videoPub = null;
    micPub = null;
    micTrack?.stop();
    micTrack = null;
    await wakeLock?.release().catch(() => undefined);
    wakeLock = null;
    store.setState({ live: false, busy: false, tally: 'off', connection: 'disconnected' });
    await current?.close();
  }

  void refreshDevices().then(() => {
    if (disposed) return;
    const { videoOptions, videoSource } = store.getState();
    const firstCamera = videoOptions.find((o) => o.value !== TEST_PATTERN)?.value;
    store.setState({
      videoSource: wantsPattern || !firstCamera ? TEST_PATTERN : (firstCamera ?? videoSource),
    });
    void startPreview();
  });

  return {
    setName(name) {
      if (store.getState().live) return;
      store.setState({ name: name.slice(0, 64) });
      pattern?.setName(name.trim() || 'Camera');
    },
    setVideoSource(value) {
      store.setState({ videoSource: value });
      void startPreview();
    },
    setMicrophone(value) {
      store.setState({ microphone: value });
      if (session) void publishMic();
    },
    setQuality(value) {
      const quality: Quality = parseQuality(value);
      store.setState({ quality });
      void startPreview();
    },
    toggleLive() {
      const { live, busy } = store.getState();
      if (live || (busy && session)) void stopLive();
      else if (!busy) void goLive();
    },
    dispose() {
      disposed = true;
      previewToken++;
      document.removeEventListener('visibilitychange', onVisibility);
      void stopLive();
      stopPreviewTracks();
      store.setState({ previewTrack: null });
    },
  };
}
