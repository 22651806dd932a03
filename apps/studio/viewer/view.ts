/**
 * The /watch page's view without React: renders the watch store into the DOM the server wrote
 * (app/watch/html.ts), with the same roles and names the React pages use. Kept free of decisions:
 * what to show comes from the store (controllers/watchController.ts) and lib/transition.ts.
 */
import { fadeRemainingMs, onAirSourceId } from '../lib/transition.ts';
import { bindTracks, play } from '../lib/videoTracks.ts';
import type { WatchState } from '../stores/watchStore.ts';

export interface WatchViewActions {
  autoplayBlocked(): void;
  unmute(): void;
}

export interface WatchViewElements {
  stage: HTMLElement;
  program: HTMLVideoElement;
  footer: HTMLElement;
  status: HTMLElement;
}

/** The server-rendered elements the view writes into; null when the page is not /watch's. */
export function findWatchElements(root: ParentNode): WatchViewElements | null {
  const stage = root.querySelector<HTMLElement>('.watch-stage');
  const program = root.querySelector<HTMLVideoElement>('video[aria-label="Program"]');
  const footer = root.querySelector<HTMLElement>('.watch-footer');
  const status = root.querySelector<HTMLElement>('[aria-label="Connection state"]');
  return stage && program && footer && status ? { stage, program, footer, status } : null;
}

/** A child of `parent` made once and kept in place, or removed when `wanted` is false. */
function optional<E extends HTMLElement>(
  parent: HTMLElement,
  existing: E | null,
  wanted: boolean,
  make: () => E,
  before: Node | null = null,
): E | null {
  if (!wanted) {
    existing?.remove();
    return null;
  }
  if (existing) return existing;
  const created = make();
  parent.insertBefore(created, before);
  return created;
}

function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Partial<Record<'className' | 'role' | 'ariaLabel' | 'textContent', string>>,
  ...children: Node[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (props.className) el.className = props.className;
  if (props.role) el.setAttribute('role', props.role);
  if (props.ariaLabel) el.setAttribute('aria-label', props.ariaLabel);
  if (props.textContent !== undefined) el.textContent = props.textContent;
  el.append(...children);
  return el;
}

/** Renders every store change into the page; returns the unsubscribe. */
export function mountWatchView(
  elements: WatchViewElements,
  subscribe: (listener: (state: WatchState) => void) => () => void,
  initial: WatchState,
  actions: WatchViewActions,
): () => void {
  const { stage, program, footer, status } = elements;
  let fade: { key: string; video: HTMLVideoElement } | null = null;
  let offAir: HTMLElement | null = stage.querySelector('.off-air');
  let slate: HTMLElement | null = null;
  let error: HTMLElement | null = document.querySelector('main > [role="alert"]');
  let serving: HTMLElement | null = footer.querySelector('.serving-node');
  let unmute: HTMLButtonElement | null = null;
  let muted: boolean | null = null;

  const render = (s: WatchState) => {
    const onAir = onAirSourceId(s.program);
    bindTracks(program, onAir ? [s.video[onAir], s.audio[onAir]] : [], actions.autoplayBlocked);
    if (muted !== s.muted) {
      muted = s.muted;
      program.muted = s.muted;
      if (program.srcObject && (program.paused || !s.muted)) play(program, actions.autoplayBlocked);
    }

    // The outgoing source of a fade, laid over the incoming one, going from opaque to clear.
    const transition = s.program?.transition ?? null;
    const fadeKey = transition?.fromSourceId ? `${transition.startedAt}-${transition.toSourceId}` : null;
    if (fade && fade.key !== fadeKey) {
      fade.video.remove();
      fade = null;
    }
    if (transition?.fromSourceId && fadeKey && !fade) {
      const video = element('video', { className: 'fade-layer' });
      video.setAttribute('aria-hidden', 'true');
      video.autoplay = true;
      video.playsInline = true;
      video.muted = true;
      video.style.opacity = '1';
      video.style.transition = `opacity ${fadeRemainingMs(transition, Date.now())}ms linear`;
      stage.insertBefore(video, program.nextSibling);
      requestAnimationFrame(() => {
        video.style.opacity = '0';
      });
      fade = { key: fadeKey, video };
    }
    if (fade && transition?.fromSourceId)
      bindTracks(fade.video, [s.video[transition.fromSourceId]], () => {});

    offAir = optional(stage, offAir, !onAir, () =>
      element('p', { className: 'off-air', textContent: 'Off air' }),
    );
    slate = optional(stage, slate, s.uplink === 'down', () =>
      element(
        'div',
        { className: 'slate', role: 'status', ariaLabel: 'Back soon' },
        element('p', { className: 'slate-title', textContent: 'Back soon' }),
        element('p', { textContent: 'The link to the studio dropped. The show resumes here by itself.' }),
      ),
    );

    const page = stage.parentElement ?? document.body;
    error = optional(
      page,
      error,
      !!s.error,
      () => element('p', { className: 'error', role: 'alert' }),
      footer,
    );
    if (error) error.textContent = s.error;

    status.textContent = s.connection;
    status.className = `connection connection-${s.connection}`;
    serving = optional(footer, serving, !!s.placement, () =>
      element('p', { className: 'serving-node', role: 'note', ariaLabel: 'Serving node' }),
    );
    if (serving && s.placement)
      serving.textContent =
        s.placement.role === 'edge' ? `Edge ${s.placement.nodeId} · ${s.placement.region}` : 'Studio site';
    unmute = optional(footer, unmute, s.autoplayBlocked, () => {
      const button = element('button', { className: 'unmute', textContent: 'Unmute' });
      button.type = 'button';
      button.addEventListener('click', () => actions.unmute());
      return button;
    });
  };

  render(initial);
  return subscribe(render);
}
