/**
 * The /watch page's one script. The viewer page has no React: a viewer only needs the program
 * video and a few lines of status, and Next.js's runtime and hydration were most of the main
 * thread's work between opening the page and the first frame (docs/benchmarks.md, join). The
 * controller and store are the ones a React page would use; viewer/view.ts renders them.
 */
import { createWatchController } from '../controllers/watchController.ts';
import { parseWatchOptions, WATCH_OPTIONS_ATTRIBUTE } from '../lib/watchOptions.ts';
import { watchStore } from '../stores/watchStore.ts';
import { findWatchElements, mountWatchView } from './view.ts';

const root = document.querySelector(`[${WATCH_OPTIONS_ATTRIBUTE}]`);
const options = parseWatchOptions(root?.getAttribute(WATCH_OPTIONS_ATTRIBUTE));
const elements = root ? findWatchElements(root) : null;
if (!options || !elements) {
  console.error('[watch] the page lacks its options or elements: not starting');
} else {
  const controller = createWatchController(options);
  mountWatchView(elements, (listener) => watchStore.subscribe(listener), watchStore.getState(), controller);
  window.addEventListener('pagehide', () => controller.dispose(), { once: true });
}
