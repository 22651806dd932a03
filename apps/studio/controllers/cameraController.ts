import {
  type Publication,
  parseHexColor,
  parseQuality,
  type Quality,
  StudioSession,
  stableClientId,
  TelemetryReporter,
} from '@microstudio/client';
import { tallyOf } from '@microstudio/protocol';
import { deviceChoices, initialVideoSource, TEST_PATTERN } from '../lib/captureDevices.ts';
import { errorText } from '../lib/errorText.ts';
import { icePolicyFromUrl } from '../lib/icePolicy.ts';
import { inviteFromUrl } from '../lib/invite.ts';
import { captureMicrophone, LocalVideo, listDevices } from '../lib/localCapture.ts';
import { initialCameraState, useCameraStore } from '../stores/cameraStore.ts';

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
  let micTrack: MediaStreamTrack | null = null;
  let session: StudioSession | null = null;
  let telemetry: TelemetryReporter | null = null;
  let videoPub: Publication | null = null;
  let micPub: Publication | null = null;
  let wakeLock: WakeLockSentinel | null = null;

  const fail = (error: unknown) => store.setState({ error: errorText(error) });
  const video = new LocalVideo(fail);

  async function refreshDevices(): Promise<void> {
    try {
      const devices = await listDevices();
      if (!devices || disposed) return;
      // Phones offer their cameras by facing (front, back) as well.
      store.setState(deviceChoices(devices, isPhone(), store.getState()));
    } catch (error) {
      fail(error);
    }
  }

  /** (Re)acquires the preview track for the selected source and quality. */
  async function startPreview(): Promise<void> {
    const { videoSource, quality, name } = store.getState();
    const adopted = await video.start(
      { source: videoSource, quality, name, color, selfie: false },
      async (next) => {
        store.setState({ previewTrack: next.track, mirrored: next.mirrored, error: null });
        if (session && videoPub) {
          // Live: swap the published video for the new one.
          await session.unpublish(videoPub).catch(fail);
          videoPub = null;
          try {
            videoPub = await session.publish(next.track, 'camera', { quality });
          } catch (error) {
            fail(error);
          }
        }
      },
    );
    // Labels appear once a permission was granted.
    if (adopted && videoSource !== TEST_PATTERN) void refreshDevices();
  }

  async function publishMic(): Promise<void> {
    if (!session) return;
    if (micPub) await session.unpublish(micPub).catch(fail);
    micPub = null;
    micTrack?.stop();
    micTrack = null;
    try {
      micTrack = await captureMicrophone(store.getState().microphone);
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
      ...icePolicyFromUrl(),
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
    store.setState({ videoSource: initialVideoSource(store.getState().videoOptions, wantsPattern) });
    void startPreview();
  });

  return {
    setName(name) {
      if (store.getState().live) return;
      store.setState({ name: name.slice(0, 64) });
      video.rename(name.trim() || 'Camera');
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
      document.removeEventListener('visibilitychange', onVisibility);
      void stopLive();
      video.close();
      store.setState({ previewTrack: null });
    },
  };
}
