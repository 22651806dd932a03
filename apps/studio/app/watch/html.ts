import type { WatchOptions } from '../../lib/watchOptions.ts';
import { WATCH_OPTIONS_ATTRIBUTE, watchOptionsJson } from '../../lib/watchOptions.ts';

/** What viewer/build.mjs built: the page's script, the chunks it loads later, its stylesheet. */
export interface ViewerAssets {
  script: string;
  chunks: string[];
  css: string;
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Text or an attribute value, safe inside HTML. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] as string);
}

/**
 * The /watch page: the program video, the off-air line and the connection status, as the viewer's
 * script (viewer/view.ts) expects them, with the options it starts from in `data-watch`. The
 * script and its later chunks are asked for at once (module preload), so they load in parallel.
 */
export function watchPageHtml(
  options: WatchOptions,
  assets: ViewerAssets,
  preconnect: string | null,
): string {
  const head = [
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="theme-color" content="#111111">',
    '<title>Watch · Microstudio</title>',
    // The studio's icon (app/icon.svg, served by Next): without it the browser asks for a favicon.
    '<link rel="icon" href="/icon.svg" type="image/svg+xml">',
    // An edge is another origin: warm its connection while the script loads.
    preconnect ? `<link rel="preconnect" href="${escapeHtml(preconnect)}" crossorigin="anonymous">` : '',
    `<link rel="modulepreload" href="${escapeHtml(assets.script)}">`,
    ...assets.chunks.map((chunk) => `<link rel="modulepreload" href="${escapeHtml(chunk)}">`),
    `<style>${assets.css.replace(/<\/style/gi, '<\\/style')}</style>`,
    `<script type="module" src="${escapeHtml(assets.script)}"></script>`,
  ].filter(Boolean);
  return `<!DOCTYPE html>
<html lang="en"><head>${head.join('')}</head><body>
<main class="watch-page" ${WATCH_OPTIONS_ATTRIBUTE}="${escapeHtml(watchOptionsJson(options))}">
<div class="watch-stage"><video aria-label="Program" autoplay playsinline class="watch-video"></video><p class="off-air">Off air</p></div>
<footer class="watch-footer"><p role="status" aria-label="Connection state" class="connection connection-disconnected">disconnected</p></footer>
</main>
</body></html>
`;
}
