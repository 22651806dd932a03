import type { NextConfig } from 'next';

/**
 * Content Security Policy: everything from this origin only — scripts, styles, signaling
 * (same-origin WebSocket through the studio's proxy) — media from local streams, images from
 * this origin or data: (QR codes), nothing may frame the pages. Next.js's inline bootstrap
 * scripts still need 'unsafe-inline' (a per-request nonce would remove it); no eval anywhere.
 */
const cspWith = (scriptSrc: string) =>
  [
    "default-src 'self'",
    `script-src ${scriptSrc}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "media-src 'self' blob: mediastream:",
    "connect-src 'self' ws: wss:",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
const contentSecurityPolicy = cspWith("'self' 'unsafe-inline'");
/** /watch is a plain page with one external module script (app/watch/route.ts): no inline script. */
const watchContentSecurityPolicy = cspWith("'self'");

/** Headers on every response (and a Content-Security-Policy: see headers()). */
const securityHeaders = [
  { key: 'X-Content-Type-Options', value: 'nosniff' },
  { key: 'X-Frame-Options', value: 'DENY' },
  { key: 'Referrer-Policy', value: 'strict-origin-when-cross-origin' },
  {
    key: 'Permissions-Policy',
    value: 'camera=(self), microphone=(self), screen-wake-lock=(self), autoplay=(self), geolocation=()',
  },
  { key: 'Cross-Origin-Opener-Policy', value: 'same-origin' },
];

const config: NextConfig = {
  // The workspace packages export TypeScript source (with explicit .ts import extensions).
  transpilePackages: [
    '@microstudio/client',
    '@microstudio/protocol',
    '@microstudio/config',
    '@microstudio/telemetry',
  ],
  poweredByHeader: false,
  reactStrictMode: true,
  experimental: {
    // The stylesheet (6 KB, all pages) comes inside the HTML: no request for it, and the page's
    // inline bootstrap scripts (the server's render data) no longer wait for it to load.
    inlineCss: true,
  },
  async headers() {
    return [
      { source: '/:path*', headers: securityHeaders },
      // Every path but /watch, and /watch: two rules that never both match (Next sends both
      // values of a header two matching rules set).
      {
        source: '/((?!watch$).*)',
        headers: [{ key: 'Content-Security-Policy', value: contentSecurityPolicy }],
      },
      { source: '/watch', headers: [{ key: 'Content-Security-Policy', value: watchContentSecurityPolicy }] },
    ];
  },
};

export default config;
