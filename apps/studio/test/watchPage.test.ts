import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { escapeHtml, watchPageHtml } from '../app/watch/html.ts';
import { parseWatchOptions, WATCH_OPTIONS_ATTRIBUTE } from '../lib/watchOptions.ts';

const assets = { script: '/viewer/watch-ABC.js', chunks: ['/viewer/chunk-DEF.js'], css: 'body{margin:0}' };

/** The value of `name` on the first element that has it, HTML entities decoded. */
function attribute(html: string, name: string): string | undefined {
  const raw = new RegExp(`${name}="([^"]*)"`).exec(html)?.[1];
  return raw
    ?.replaceAll('&quot;', '"')
    .replaceAll('&#39;', "'")
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&amp;', '&');
}

describe('the /watch page (app/watch/html.ts)', () => {
  it('carries its options for the script, which reads them back unchanged', () => {
    const options = {
      room: 'main',
      region: 'eu-west',
      atSite: false,
      placement: { nodeId: 'edge-1', role: 'edge' as const, region: 'eu-west', url: 'http://10.0.0.2:4400' },
    };
    const html = watchPageHtml(options, assets, 'http://10.0.0.2:4400');
    assert.deepEqual(parseWatchOptions(attribute(html, WATCH_OPTIONS_ATTRIBUTE)), options);
    assert.match(html, /<link rel="preconnect" href="http:\/\/10\.0\.0\.2:4400" crossorigin="anonymous">/);
  });

  it('names what a viewer and a test look for: the Program video and the connection state', () => {
    const html = watchPageHtml({ room: 'main', region: undefined }, assets, null);
    assert.match(html, /<video aria-label="Program" autoplay playsinline/);
    assert.match(html, /role="status" aria-label="Connection state"[^>]*>disconnected</);
    assert.match(html, /<title>Watch · Microstudio<\/title>/);
    assert.doesNotMatch(html, /rel="preconnect"/);
  });

  it('loads the script as a module and preloads its chunks, with the stylesheet inline', () => {
    const html = watchPageHtml({ room: 'main', region: undefined }, assets, null);
    assert.match(html, /<script type="module" src="\/viewer\/watch-ABC\.js"><\/script>/);
    assert.match(html, /<link rel="modulepreload" href="\/viewer\/chunk-DEF\.js">/);
    assert.match(html, /<style>body\{margin:0\}<\/style>/);
  });

  it('cannot be broken out of: quotes and angle brackets in values are escaped', () => {
    assert.equal(
      escapeHtml(`"><script>alert('x')</script>&`),
      '&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;',
    );
    const html = watchPageHtml(
      { room: 'main', region: undefined },
      { ...assets, css: 'a{}</style><script>alert(1)</script>' },
      null,
    );
    assert.doesNotMatch(html, /<\/style><script>alert/);
  });
});
