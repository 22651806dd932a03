import {
  type CanvasTestPattern,
  createTestPattern,
  createTestTone,
  type FeedSpec,
  type Publication,
  parseHexColor,
  parseQuality,
  QUALITY_PRESETS,
  RequestError,
  SourceFeeds,
  StudioSession,
  stableClientId,
  type TestPattern,
  videoConstraints,
} from '@microstudio/client';
import { ErrorCode, type GuestStatus, tallyOf } from '@microstudio/protocol';
import { AudioMeters } from '../lib/audioMeter.ts';
import { inviteFromUrl } from '../lib/invite.ts';
import { mixMinusSourceIds, programSourceIds } from '../lib/mixMinus.ts';
import { NO_MICROPHONE, TEST_PATTERN } from '../stores/cameraStore.ts';
import { initialJoinState, useJoinStore } from '../stores/joinStore.ts';
import { micOptionsFrom, videoOptionsFrom } from './cameraController.ts';

export interface JoinParams {
  room: string;
  name?: string;
  /** `test-pattern`: start with the test pattern (rehearsals, tests). */
  source?: string;
  color?: string;
  quality?: string;
  /** A test tone (Hz) instead of the microphone: tells guests apart by ear or by FFT. */
  tone?: string;
}

export interface JoinController {
  setName(name: string): void;
  setVideoSource(value: string): void;
  setMicrophone(value: string): void;
  /** Device check done: join the room and wait in the green room. */
  join(): void;
  /** Leave the show (or the green room). */
  leave(): void;
  dispose(): void;
}

/** The program picture a guest watches at the middle layer (a remote link, not the venue LAN). */
const PROGRAM_LAYER = 1;
const METER_INTERVAL_MS = 100;

const describeError = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** A tone frequency from the query, or null (20 Hz – 20 kHz). */
export function parseTone(value: string | undefined): number | null {
  const hz = Number(value);
  return value && Number.isFinite(hz) && hz >= 20 && hz <= 20_000 ? hz : null;
}

/**
 * The /join page for remote guests: a device check (camera preview, mic meter, name), then the
 * green room (watching the program), then live once the director admits it. What it hears is a
 * mix-minus: every on-air microphone but its own.
 */
export function createJoinController(params: JoinParams): JoinController {
  const store = useJoinStore;
  const color = parseHexColor(params.color) ?? undefined;
  const tone = parseTone(params.tone);
  const quality = parseQuality(params.quality);
  store.setState({
    ...initialJoinState,
    room: params.room,
    name: (params.name ?? '').trim().slice(0, 64),
  });
  const clientId = stableClientId(`guest:${params.room}`);

  let disposed = false;
  let pattern: CanvasTestPattern | null = null;
  let cameraTrack: MediaStreamTrack | null = null;
  let mic: { track: MediaStreamTrack; tone: TestPattern | null } | null = null;
  let session: StudioSession | null = null;
  let feeds: SourceFeeds | null = null;
  let videoPub: Publication | null = null;
  let micPub: Publication | null = null;
  let previewToken = 0;
  let micToken = 0;
  const meters = new AudioMeters();

  const fail = (error: unknown) => store.setState({ error: describeError(error) });

  const meterTimer = setInterval(() => {
    store.setState({ micLevel: mic ? meters.level('local') : 0 });
  }, METER_INTERVAL_MS);

  async function refreshDevices(): Promise<void> {
    if (!navigator.mediaDevices?.enumerateDevices) return;
    try {
      const devices = await navigator.mediaDevices.enumerateDevices();
      if (disposed) return;
      const videoOptions = videoOptionsFrom(devices, false);
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

  async function startPreview(): Promise<void> {
    const token = ++previewToken;
    const { videoSource, name } = store.getState();
    const preset = QUALITY_PRESETS[quality];
    let track: MediaStreamTrack;
    let next: CanvasTestPattern | null = null;
    let mirrored = false;
    try {
      if (videoSource === TEST_PATTERN) {
        next = createTestPattern({
          name: name.trim() || 'Guest',
          width: preset.width,
          height: preset.height,
          fps: preset.frameRate,
          ...(color ? { color } : {}),
        });
        track = next.track;
      } else {
        const constraints: MediaTrackConstraints = { ...videoConstraints(quality) };
        const deviceId = videoSource.slice('device:'.length);
        if (deviceId) constraints.deviceId = { exact: deviceId };
        else constraints.facingMode = { ideal: 'user' };
        mirrored = true;
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
      await session.unpublish(videoPub).catch(fail);
      videoPub = null;
      videoPub = await session.publish(track, 'camera', { quality }).catch((error: unknown) => {
        fail(error);
        return null;
      });
    }
    old.pattern?.stop();
    old.cameraTrack?.stop();
    if (!next) void refreshDevices();
  }

  /** (Re)acquires the microphone (or the test tone) for the meter and, once live, the show. */
  async function startMic(): Promise<void> {
    const token = ++micToken;
    const { microphone } = store.getState();
    let next: { track: MediaStreamTrack; tone: TestPattern | null } | null = null;
    try {
      if (tone !== null) {
        const generated = createTestTone(tone, 0.3);
        next = { track: generated.track, tone: generated };
      } else if (microphone && microphone !== NO_MICROPHONE && navigator.mediaDevices?.getUserMedia) {
        const deviceId = microphone.slice('mic:'.length);
        const stream = await navigator.mediaDevices.getUserMedia({
          audio: {
            ...(deviceId ? { deviceId: { exact: deviceId } } : {}),
            echoCancellation: true,
            noiseSuppression: true,
          },
          video: false,
        });
        const track = stream.getAudioTracks()[0];
        if (track) next = { track, tone: null };
      }
    } catch (error) {
      if (token === micToken) fail(error);
      return;
    }
    if (disposed || token !== micToken) {
      next?.tone?.stop();
      next?.track.stop();
      return;
    }
    const old = mic;
    mic = next;
    meters.set('local', next?.track ?? null);
    if (session && store.getState().phase === 'live') await publishMic();
    old?.tone?.stop();
    old?.track.stop();
  }

  async function publishMic(): Promise<void> {
    const current = session;
    if (!current) return;
    if (micPub) await current.unpublish(micPub).catch(fail);
    micPub = null;
    if (mic) micPub = await current.publish(mic.track, 'mic');
  }

  /** Admitted: publish like a camera (the node refused it until now). */
  async function goLive(current: StudioSession): Promise<void> {
    const { previewTrack } = store.getState();
    if (previewTrack && !videoPub) videoPub = await current.publish(previewTrack, 'camera', { quality });
    if (!micPub) await publishMic();
  }

  function updateFeeds(): void {
    const current = session;
    if (!current || !feeds) return;
    const { phase } = store.getState();
    const program = current.program;
    const specs: FeedSpec[] = programSourceIds(program)
      .filter((id) => id !== clientId)
      .map((sourceId) => ({ sourceId, purpose: 'camera', spatialLayer: PROGRAM_LAYER }));
    for (const sourceId of mixMinusSourceIds(current.room, program, clientId, phase === 'live'))
      specs.push({ sourceId, purpose: 'mic' });
    feeds.setWanted(specs);
  }

  function onStatus(current: StudioSession, status: GuestStatus): void {
    if (session !== current) return;
    store.setState({ muted: status.muted });
    if (status.state === 'waiting') store.setState({ phase: 'waiting' });
    else if (status.state === 'admitted') {
      if (store.getState().phase !== 'live') {
        store.setState({ phase: 'live' });
        goLive(current).catch(fail);
      }
    } else {
      // Rejected or removed: the node closes the connection and the invite will not let us back.
      store.setState({ phase: status.state });
      void stop();
    }
    updateFeeds();
  }

  async function join(): Promise<void> {
    const { room, name, phase } = store.getState();
    if (phase !== 'check' && phase !== 'failed') return;
    let token: string;
    try {
      token = inviteFromUrl('guest');
    } catch (error) {
      store.setState({ phase: 'failed' });
      fail(error);
      return;
    }
    void meters.resume();
    store.setState({ phase: 'joining', error: null });
    const current = new StudioSession({
      roomId: room,
      token,
      displayName: name.trim() || 'Guest',
      clientId,
    });
    session = current;
    const currentFeeds = new SourceFeeds(current);
    feeds = currentFeeds;
    current.on('state', (connection) => store.setState({ connection }));
    current.on('guest', (status) => onStatus(current, status));
    current.on('room', () => updateFeeds());
    current.on('program', (program) => {
      store.setState({ program, tally: tallyOf(program, clientId) });
      updateFeeds();
    });
    current.on('error', (error) => console.warn('[join]', error.message));
    currentFeeds.on('track', (key, track) => {
      const [sourceId = '', purpose] = key.split('|');
      if (purpose === 'mic') store.setState((s) => ({ audio: { ...s.audio, [sourceId]: track } }));
      else store.setState((s) => ({ video: { ...s.video, [sourceId]: track } }));
    });
    store.setState({ connection: current.state });
    try {
      await current.connect();
    } catch (error) {
      if (session !== current) return;
      const dismissed = ['rejected', 'removed'].includes(store.getState().phase);
      if (!dismissed) {
        store.setState({ phase: 'failed' });
        fail(
          error instanceof RequestError && error.code === ErrorCode.Unauthorized
            ? `This invite does not let you in (${error.message.replace(/^.*UNAUTHORIZED: /, '')}).`
            : error,
        );
      }
      await stop();
    }
  }

  async function stop(): Promise<void> {
    const current = session;
    session = null;
    feeds?.close();
    feeds = null;
    videoPub = null;
    micPub = null;
    store.setState({ connection: 'disconnected', video: {}, audio: {}, tally: 'off' });
    await current?.close();
  }

  void refreshDevices().then(() => {
    if (disposed) return;
    const { videoOptions } = store.getState();
    const firstCamera = videoOptions.find((o) => o.value !== TEST_PATTERN)?.value;
    store.setState({
      videoSource: params.source === TEST_PATTERN || !firstCamera ? TEST_PATTERN : firstCamera,
    });
    void startPreview();
    void startMic();
  });

  return {
    setName(name) {
      if (store.getState().phase !== 'check' && store.getState().phase !== 'failed') return;
      store.setState({ name: name.slice(0, 64) });
      pattern?.setName(name.trim() || 'Guest');
    },
    setVideoSource(value) {
      store.setState({ videoSource: value });
      void startPreview();
    },
    setMicrophone(value) {
      store.setState({ microphone: value });
      void startMic();
    },
    join() {
      void join();
    },
    leave() {
      store.setState({ phase: 'check', muted: false, program: null });
      void stop();
    },
    dispose() {
      disposed = true;
      previewToken++;
      micToken++;
      clearInterval(meterTimer);
      void stop();
      pattern?.stop();
      cameraTrack?.stop();
      mic?.tone?.stop();
      mic?.track.stop();
      meters.close();
      store.setState({ previewTrack: null });
    },
  };
}
