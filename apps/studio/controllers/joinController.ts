import {
  createTestTone,
  type FeedSpec,
  type Publication,
  parseHexColor,
  parseQuality,
  SourceFeeds,
  StudioSession,
  stableClientId,
  type TestPattern,
} from '@microstudio/client';
import { type GuestStatus, tallyOf } from '@microstudio/protocol';
import { AudioMeters } from '../lib/audioMeter.ts';
import { deviceChoices, initialVideoSource, TEST_PATTERN } from '../lib/captureDevices.ts';
import { errorText } from '../lib/errorText.ts';
import { inviteFromUrl } from '../lib/invite.ts';
import { LatestCapture } from '../lib/latestCapture.ts';
import { captureMicrophone, LocalVideo, listDevices } from '../lib/localCapture.ts';
import { mixMinusSourceIds, programSourceIds } from '../lib/mixMinus.ts';
import { initialJoinState, useJoinStore } from '../stores/joinStore.ts';

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

/** What the guest sends as its microphone: a device's track, or the test tone's. */
interface LocalMic {
  track: MediaStreamTrack;
  tone: TestPattern | null;
}

const stopMic = (mic: LocalMic | null) => {
  mic?.tone?.stop();
  mic?.track.stop();
};

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
  let session: StudioSession | null = null;
  let feeds: SourceFeeds | null = null;
  let videoPub: Publication | null = null;
  let micPub: Publication | null = null;
  const meters = new AudioMeters();

  const fail = (error: unknown) => store.setState({ error: errorText(error) });
  const video = new LocalVideo(fail);
  /** Holds null while there is no microphone to send (none chosen, or none known yet). */
  const mic = new LatestCapture<LocalMic | null>(stopMic, fail);

  const meterTimer = setInterval(() => {
    store.setState({ micLevel: mic.current ? meters.level('local') : 0 });
  }, METER_INTERVAL_MS);

  async function refreshDevices(): Promise<void> {
    try {
      const devices = await listDevices();
      if (!devices || disposed) return;
      // A guest faces its camera (a selfie capture, below): no front/back choice.
      store.setState(deviceChoices(devices, false, store.getState()));
    } catch (error) {
      fail(error);
    }
  }

  async function startPreview(): Promise<void> {
    const { videoSource, name } = store.getState();
    const adopted = await video.start(
      { source: videoSource, quality, name: name.trim() || 'Guest', color, selfie: true },
      async (next) => {
        store.setState({ previewTrack: next.track, mirrored: next.mirrored, error: null });
        if (session && videoPub) {
          await session.unpublish(videoPub).catch(fail);
          videoPub = null;
          videoPub = await session.publish(next.track, 'camera', { quality }).catch((error: unknown) => {
            fail(error);
            return null;
          });
        }
      },
    );
    if (adopted && videoSource !== TEST_PATTERN) void refreshDevices();
  }

  /** The test tone, the chosen microphone, or null. */
  async function captureMic(): Promise<LocalMic | null> {
    if (tone !== null) {
      const generated = createTestTone(tone, 0.3);
      return { track: generated.track, tone: generated };
    }
    const { microphone } = store.getState();
    // '' until the devices are known: no microphone yet.
    if (!microphone) return null;
    const track = await captureMicrophone(microphone);
    return track ? { track, tone: null } : null;
  }

  /** (Re)acquires the microphone (or the test tone) for the meter and, once live, the show. */
  async function startMic(): Promise<void> {
    await mic.replace(captureMic, async (next) => {
      meters.set('local', next?.track ?? null);
      if (session && store.getState().phase === 'live') await publishMic();
    });
  }

  async function publishMic(): Promise<void> {
    const current = session;
    if (!current) return;
    if (micPub) await current.unpublish(micPub).catch(fail);
    micPub = null;
    const local = mic.current;
    if (local) micPub = await current.publish(local.track, 'mic');
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
        fail(error);
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
    store.setState({
      videoSource: initialVideoSource(store.getState().videoOptions, params.source === TEST_PATTERN),
    });
    void startPreview();
    void startMic();
  });

  return {
    setName(name) {
      if (store.getState().phase !== 'check' && store.getState().phase !== 'failed') return;
      store.setState({ name: name.slice(0, 64) });
      video.rename(name.trim() || 'Guest');
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
      clearInterval(meterTimer);
      void stop();
      video.close();
      mic.close();
      meters.close();
      store.setState({ previewTrack: null });
    },
  };
}
