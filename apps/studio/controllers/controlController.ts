import {
  type FeedSpec,
  feedKey,
  gradeVideo,
  type InboundVideoStats,
  MONITOR_LAYER,
  MULTIVIEW_LAYER,
  RequestError,
  readInboundAudioLevel,
  readInboundVideo,
  SourceFeeds,
  StudioSession,
  stableClientId,
} from '@microstudio/client';
import { ErrorCode, MAX_TRANSITION_MS, MIN_TRANSITION_MS, type RoomSnapshot } from '@microstudio/protocol';
import QRCode from 'qrcode';
import { type FabricNode, errorText as fabricErrorText, publicNodes } from '../app/api/fabric/fabricNodes.ts';
import { AudioMeters } from '../lib/audioMeter.ts';
import { forgetDirectorToken, obtainDirectorToken } from '../lib/directorToken.ts';
import { errorText } from '../lib/errorText.ts';
import { type InviteRole, inviteRequest } from '../lib/inviteOptions.ts';
import { pageLinks } from '../lib/pageLinks.ts';
import { recordErrorText, recorderStale } from '../lib/recording.ts';
import { monitorSourceIds } from '../lib/transition.ts';
import {
  type EdgeRow,
  type EdgesState,
  initialControlState,
  type RecordingState,
  type Tile,
  useControlStore,
} from '../stores/controlStore.ts';

export interface ControlController {
  preview(sourceId: string): void;
  cut(): void;
  auto(): void;
  setTransitionMs(value: number): void;
  /** Makes a new invite link (camera and guest: also its QR code) with the chosen expiry and uses. */
  createInvite(role: InviteRole): void;
  /** The director's choices for the next invite: lifetime (seconds) and use count as typed. */
  setInviteOptions(options: { ttlSeconds?: number; uses?: string }): void;
  /** Puts an invite's link (made in this tab) on the clipboard; its button says "Copied". */
  copyInviteLink(inviteId: string): void;
  revokeInvite(inviteId: string): void;
  /** Green room: admit, reject, (un)mute or remove a guest. */
  guestAction(action: GuestAction, guestId: string): void;
  /** Record (or stop recording) one source, or every source when `sourceId` is undefined. */
  setRecording(sourceId: string | undefined, on: boolean): void;
  /** Record all on or off, whichever it is not (the R key). */
  toggleRecordAll(): void;
  /** A key pressed anywhere on the page; returns true when it was a shortcut (prevent default). */
  handleKey(key: string, target: KeyTarget): boolean;
  dispose(): void;
}

export type GuestAction = 'admit' | 'reject' | 'mute' | 'unmute' | 'remove';

/** What the key handler needs to know about the key press and the focused element. */
export interface KeyTarget {
  tagName: string;
  /** Focus is on a multiview tile. */
  isTile: boolean;
  /** Ctrl, Alt or Meta was held (browser shortcuts are left alone). */
  modifier: boolean;
}

export type KeyAction =
  | { kind: 'preview'; index: number }
  | { kind: 'cut' }
  | { kind: 'auto' }
  | { kind: 'recordAll' }
  | { kind: 'release' }
  | null;

/**
 * Shortcuts: 1–9 preview the nth tile, Space/Enter cut, A auto, R Record all on/off, Escape leaves
 * the focused control. Ignored while typing in a field.
 * Space/Enter on a focused button or link other than a tile keep their native meaning (activating
 * it: on Cut that is the cut); on a tile they cut, like everywhere else.
 */
export function keyAction(key: string, target: KeyTarget): KeyAction {
  const tag = target.tagName.toUpperCase();
  if (target.modifier) return null;
  // Escape hands the keyboard back to the mixer from any control (Space then cuts again).
  if (key === 'Escape') return { kind: 'release' };
  if (tag === 'INPUT' || tag === 'SELECT' || tag === 'TEXTAREA') return null;
  if (/^[1-9]$/.test(key)) return { kind: 'preview', index: Number(key) - 1 };
  if (key === 'a' || key === 'A') return { kind: 'auto' };
  if (key === 'r' || key === 'R') return { kind: 'recordAll' };
  if (key === ' ' || key === 'Spacebar' || key === 'Enter') {
    if ((tag === 'BUTTON' || tag === 'A') && !target.isTile) return null;
    return { kind: 'cut' };
  }
  return null;
}

/** Tiles are sources with a video track, in the node's (join) order. */
export function tilesOf(room: RoomSnapshot | null): Tile[] {
  if (!room) return [];
  return room.sources
    .filter((s) => s.tracks.some((t) => t.kind === 'video' && t.purpose === 'camera'))
    .map((s, i) => ({ sourceId: s.sourceId, name: s.displayName, number: i + 1, quality: s.quality }));
}

export function clampTransition(ms: number): number {
  if (!Number.isFinite(ms)) return initialControlState.transitionMs;
  return Math.min(MAX_TRANSITION_MS, Math.max(MIN_TRANSITION_MS, Math.round(ms)));
}

/** The Edges panel asks the studio for the fabric's nodes this often (after each answer). */
const FABRIC_POLL_MS = 2000;
/** A node whose last heartbeat is older than this is marked stale. */
const STALE_AFTER_MS = 5000;
/** The studio answers within ~2 s (its own timeout towards the node); give up on it after this. */
const FABRIC_FETCH_TIMEOUT_MS = 5000;

/** The Edges panel's rows: the site(s) first, then edges, each by node id; aged against `now`. */
export function edgeRows(nodes: readonly FabricNode[], now: number): EdgeRow[] {
  const order = (a: FabricNode, b: FabricNode) =>
    (a.role === b.role ? 0 : a.role === 'site' ? -1 : 1) ||
    (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0);
  return [...nodes].sort(order).map((node) => {
    const ageMs = Math.max(0, now - node.updatedAt);
    return {
      ...node,
      ageSeconds: Math.floor(ageMs / 1000),
      stale: ageMs > STALE_AFTER_MS,
      full: node.viewers >= node.capacity,
    };
  });
}

/**
 * Polls /api/fabric every 2 s and reports the Edges panel's state. A failed poll keeps the last
 * nodes (still ageing, so they turn stale) next to the error. Returns the stop function; nothing
 * is reported after it.
 */
export function pollFabric(report: (edges: EdgesState) => void): () => void {
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let inFlight: AbortController | null = null;
  let nodes: FabricNode[] = [];
  /** Studio server clock minus this browser's clock: heartbeats are aged on the server's time. */
  let clockOffset = 0;

  const show = (error: string | null) => {
    if (stopped) return;
    const rows = edgeRows(nodes, Date.now() + clockOffset);
    report({ loaded: true, nodes: rows, edgeCount: rows.filter((r) => r.role === 'edge').length, error });
  };

  async function poll(): Promise<void> {
    const abort = new AbortController();
    inFlight = abort;
    let timedOut = false;
    const timeout = setTimeout(() => {
      timedOut = true;
      abort.abort();
    }, FABRIC_FETCH_TIMEOUT_MS);
    try {
      const response = await fetch('/api/fabric', { cache: 'no-store', signal: abort.signal });
      const body: unknown = await response.json().catch(() => null);
      const fresh = response.ok ? publicNodes(body) : null;
      if (fresh) {
        nodes = fresh;
        const now = (body as { now?: unknown }).now;
        clockOffset = typeof now === 'number' && Number.isFinite(now) ? now - Date.now() : 0;
        show(null);
      } else show(fabricErrorText(body) ?? `fabric answer: HTTP ${response.status}`);
    } catch {
      show(timedOut ? 'the studio did not answer within 5 s' : 'the studio server is unreachable');
    } finally {
      clearTimeout(timeout);
      inFlight = null;
      if (!stopped) timer = setTimeout(() => void poll(), FABRIC_POLL_MS);
    }
  }

  void poll();
  return () => {
    stopped = true;
    clearTimeout(timer);
    inFlight?.abort();
  };
}

const STATS_INTERVAL_MS = 500;
/** How long a copy button says "Copied". */
const COPIED_MS = 2000;

/** The /control page: joins as director, keeps the multiview and monitors fed, drives the bus. */
export function createControlController({ room }: { room: string }): ControlController {
  const store = useControlStore;
  store.setState({ ...initialControlState, room });
  let session: StudioSession | null = null;
  let feeds: SourceFeeds | null = null;
  const lastVideo = new Map<string, InboundVideoStats | null>();
  const meters = new AudioMeters();
  /** Browser clock minus the node's (from health:sources' `at`): the recorder's age is node time. */
  let nodeClockOffset = 0;

  const fail = (error: unknown) => store.setState({ error: errorText(error) });
  const setRecordingState = (patch: Partial<RecordingState>) =>
    store.setState((s) => ({ recording: { ...s.recording, ...patch } }));
  /** Re-checks "not reporting" against the node's clock; writes only when it changes. */
  const checkRecorder = () => {
    const { recorder, reportedAt, stale } = store.getState().recording;
    const now = recorderStale(reportedAt, recorder, Date.now() - nodeClockOffset);
    if (now !== stale) setRecordingState({ stale: now });
  };
  const act = (work: (session: StudioSession) => Promise<void>) => {
    void meters.resume(); // A user gesture: let the meters' audio context run.
    if (!session) return;
    store.setState({ error: null });
    work(session).catch(fail);
  };

  function updateWanted(): void {
    const { tiles, program } = store.getState();
    const specs: FeedSpec[] = [];
    for (const tile of tiles) {
      specs.push({ sourceId: tile.sourceId, purpose: 'camera', spatialLayer: MULTIVIEW_LAYER });
      specs.push({ sourceId: tile.sourceId, purpose: 'mic' });
    }
    for (const sourceId of monitorSourceIds(program)) {
      specs.push({ sourceId, purpose: 'camera', spatialLayer: MONITOR_LAYER });
    }
    feeds?.setWanted(specs);
  }

  function wire(current: StudioSession, currentFeeds: SourceFeeds): void {
    current.on('state', (connection) => store.setState({ connection }));
    current.on('room', (snapshot) => {
      const names = Object.fromEntries(snapshot.sources.map((s) => [s.sourceId, s.displayName]));
      store.setState((s) => ({
        tiles: tilesOf(snapshot),
        names,
        recording: { ...s.recording, seenNames: { ...s.recording.seenNames, ...names } },
      }));
      updateWanted();
    });
    current.on('program', (program) => {
      store.setState({ program });
      updateWanted();
    });
    current.on('guests', (guests) => store.setState({ guests }));
    current.on('health', (health) => {
      // Measured and sent at once: its `at` is the node's clock now, give or take the network.
      nodeClockOffset = Date.now() - health.at;
      store.setState({ health });
    });
    current.on('recorder', ({ plan, recorder, reportedAt }) => {
      setRecordingState({
        plan,
        recorder,
        reportedAt,
        stale: recorderStale(reportedAt, recorder, Date.now() - nodeClockOffset),
      });
    });
    current.on('error', (error) => console.warn('[control]', error.message));
    currentFeeds.on('track', (key, track) => {
      const [sourceId = '', purpose, layer] = key.split('|');
      if (purpose === 'mic') meters.set(sourceId, track);
      if (purpose !== 'camera') return;
      if (Number(layer) === MULTIVIEW_LAYER)
        store.setState((s) => ({ multiview: { ...s.multiview, [sourceId]: track } }));
      else store.setState((s) => ({ monitors: { ...s.monitors, [sourceId]: track } }));
    });
  }

  // Meters and receive quality from getStats.
  const statsTimer = setInterval(async () => {
    const { tiles } = store.getState();
    const levels: Record<string, number> = {};
    const receive: Record<string, string> = {};
    await Promise.all(
      tiles.map(async (tile) => {
        const mic = feeds?.remote(feedKey({ sourceId: tile.sourceId, purpose: 'mic' }));
        const audioReport = await mic?.getStats();
        const reported = audioReport ? (readInboundAudioLevel(audioReport) ?? 0) : 0;
        levels[tile.sourceId] = reported > 0 ? reported : meters.level(tile.sourceId);
        const video = feeds?.remote(
          feedKey({ sourceId: tile.sourceId, purpose: 'camera', spatialLayer: MULTIVIEW_LAYER }),
        );
        const videoReport = await video?.getStats();
        const current = videoReport ? readInboundVideo(videoReport) : null;
        const stalled = gradeVideo(lastVideo.get(tile.sourceId) ?? null, current) === 'lost';
        lastVideo.set(tile.sourceId, current);
        const fps = current?.framesPerSecond;
        if (current) receive[tile.sourceId] = stalled ? 'no frames' : `${Math.round(fps ?? 0)} fps`;
      }),
    );
    store.setState({ audioLevels: levels, receive });
  }, STATS_INTERVAL_MS);

  const recorderTimer = setInterval(checkRecorder, 1000);

  const stopFabric = pollFabric((edges) => store.setState({ edges }));

  const links = pageLinks(room);
  void links.maxInviteUses.then((maxInviteUses) => store.setState({ maxInviteUses }));

  const cameraLinkKey = `microstudio:camera-link:${room}`;
  // The links of the invites made in this tab outlive a reload (so their Copy link buttons do).
  const inviteLinksKey = `microstudio:invite-links:${room}`;
  store.setState({
    inviteLinks: JSON.parse(sessionStorage.getItem(inviteLinksKey) ?? '{}') as Record<string, string>,
  });
  const rememberLink = (inviteId: string, url: string) => {
    store.setState((s) => ({ inviteLinks: { ...s.inviteLinks, [inviteId]: url } }));
    sessionStorage.setItem(inviteLinksKey, JSON.stringify(store.getState().inviteLinks));
  };
  let copiedTimer: ReturnType<typeof setTimeout> | undefined;
  async function showCameraLink(url: string): Promise<void> {
    const qrDataUrl = await QRCode.toDataURL(url, { margin: 1, width: 256, errorCorrectionLevel: 'L' }).catch(
      () => null,
    );
    store.setState({ cameraUrl: url, qrDataUrl });
  }

  async function refreshInvites(): Promise<void> {
    if (!session) return;
    const invites = await session.listInvites();
    // Links of invites the node no longer lists (expired) are forgotten.
    const listed = new Set(invites.map((i) => i.inviteId));
    const inviteLinks = Object.fromEntries(
      Object.entries(store.getState().inviteLinks).filter(([inviteId]) => listed.has(inviteId)),
    );
    sessionStorage.setItem(inviteLinksKey, JSON.stringify(inviteLinks));
    store.setState({ invites, inviteLinks });
  }

  const controller: ControlController = {
    preview(sourceId) {
      act((s) => s.preview(sourceId));
    },
    cut() {
      act((s) => s.cut());
    },
    auto() {
      act((s) => s.auto(clampTransition(store.getState().transitionMs)));
    },
    createInvite(role) {
      const { inviteTtlSeconds, inviteUses, maxInviteUses } = store.getState();
      const made = inviteRequest(role, inviteTtlSeconds, inviteUses, maxInviteUses);
      if (!made.ok) {
        store.setState({ error: made.error });
        return;
      }
      act(async (s) => {
        const invite = await s.createInvite(made.request);
        const base = await { camera: links.cameraUrl, viewer: links.watchUrl, guest: links.joinUrl }[role];
        const url = `${base}&invite=${encodeURIComponent(invite.token)}`;
        rememberLink(invite.inviteId, url);
        if (role === 'guest') {
          const guestQrDataUrl = await QRCode.toDataURL(url, {
            margin: 1,
            width: 256,
            errorCorrectionLevel: 'L',
          }).catch(() => null);
          store.setState({ guestUrl: url, guestQrDataUrl });
        } else if (role === 'camera') {
          await showCameraLink(url);
          sessionStorage.setItem(cameraLinkKey, JSON.stringify({ inviteId: invite.inviteId, url }));
        } else store.setState({ viewerUrl: url });
        await refreshInvites();
      });
    },
    setInviteOptions({ ttlSeconds, uses }) {
      store.setState((s) => ({
        inviteTtlSeconds: ttlSeconds ?? s.inviteTtlSeconds,
        inviteUses: uses ?? s.inviteUses,
      }));
    },
    copyInviteLink(inviteId) {
      const url = store.getState().inviteLinks[inviteId];
      if (!url) return;
      navigator.clipboard.writeText(url).then(
        () => {
          clearTimeout(copiedTimer);
          store.setState({ copied: inviteId, error: null });
          copiedTimer = setTimeout(() => store.setState({ copied: null }), COPIED_MS);
        },
        () =>
          store.setState({
            error:
              'The browser did not let this page use the clipboard: open the link and copy it from the address bar.',
          }),
      );
    },
    revokeInvite(inviteId) {
      act(async (s) => {
        await s.revokeInvite(inviteId);
        await refreshInvites();
      });
    },
    guestAction(action, guestId) {
      act(async (s) => {
        await s.guestAction(action, guestId);
        await refreshInvites();
      });
    },
    setRecording(sourceId, on) {
      const current = session;
      if (!current) return;
      const { names, recording } = store.getState();
      const target =
        sourceId === undefined ? undefined : (recording.seenNames[sourceId] ?? names[sourceId] ?? sourceId);
      setRecordingState({ error: null });
      current.setRecording(sourceId, on).then(
        (plan) => setRecordingState({ plan, error: null }),
        (error: unknown) => setRecordingState({ error: recordErrorText(error, target, on) }),
      );
    },
    toggleRecordAll() {
      controller.setRecording(undefined, !store.getState().recording.plan.all);
    },
    setTransitionMs(value) {
      store.setState({ transitionMs: Number.isFinite(value) ? value : initialControlState.transitionMs });
    },
    handleKey(key, target) {
      const action = keyAction(key, target);
      if (!action) return false;
      if (action.kind === 'release') {
        if (document.activeElement instanceof HTMLElement) document.activeElement.blur();
      } else if (action.kind === 'cut') controller.cut();
      else if (action.kind === 'auto') controller.auto();
      else if (action.kind === 'recordAll') controller.toggleRecordAll();
      else {
        const tile = store.getState().tiles[action.index];
        if (tile) controller.preview(tile.sourceId);
      }
      return true;
    },
    dispose() {
      clearInterval(statsTimer);
      clearTimeout(copiedTimer);
      clearInterval(recorderTimer);
      stopFabric();
      feeds?.close();
      meters.close();
      void session?.close();
    },
  };
  void (async () => {
    const token = await obtainDirectorToken(room);
    const current = new StudioSession({
      roomId: room,
      token,
      displayName: 'Control room',
      clientId: stableClientId(`director:${room}`),
    });
    session = current;
    feeds = new SourceFeeds(current);
    wire(current, feeds);
    await current.connect();
    store.setState({ guests: await current.listGuests() });
    await refreshInvites();
    // The camera QR code is on screen from the start: this tab's link while its invite is still
    // valid (so a reload keeps the code the crew already scanned), else a fresh one.
    const saved = JSON.parse(sessionStorage.getItem(cameraLinkKey) ?? 'null') as {
      inviteId: string;
      url: string;
    } | null;
    const stillValid =
      saved && store.getState().invites.some((i) => i.inviteId === saved.inviteId && !i.revoked);
    if (saved && stillValid) await showCameraLink(saved.url);
    else controller.createInvite('camera');
  })().catch((error: unknown) => {
    if (error instanceof RequestError && error.code === ErrorCode.Unauthorized) forgetDirectorToken(room);
    fail(error);
  });

  return controller;
}
