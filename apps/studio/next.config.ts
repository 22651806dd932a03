import type { NextConfig } from 'next';

/** Basic headers for every response; a full CSP is a later issue. */
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
  transpilePackages: ['@microstudio/client', '@microstudio/protocol', '@microstudio/config'],
  poweredByHeader: false,
  reactStrictMode: true,
  async headers() {
    return [{ source: '/:path*', headers: securityHeaders }];
  },
};

export default config;
