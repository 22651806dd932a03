import type { Config } from '@microstudio/config';

/**
 * Web origins whose pages may open a signaling connection: a page on another site must not
 * drive a director's browser into this node (its token would ride along). Browsers always send
 * Origin on WebSocket and cross-origin requests; programs that send none (encoders, tests,
 * other nodes) are not browsers and are judged by their token alone.
 */
export function allowedOrigins(config: Config, announced: string): Set<string> {
  if (config.MICROSTUDIO_ALLOWED_ORIGINS) {
    return new Set(
      config.MICROSTUDIO_ALLOWED_ORIGINS.split(',')
        .map((o) => o.trim().replace(/\/+$/, ''))
        .filter(Boolean),
    );
  }
  const http = config.MICROSTUDIO_STUDIO_PORT;
  const https = config.MICROSTUDIO_STUDIO_HTTPS_PORT;
  const hosts = ['localhost', '127.0.0.1', announced.includes(':') ? `[${announced}]` : announced];
  return new Set(hosts.flatMap((host) => [`http://${host}:${http}`, `https://${host}:${https}`]));
}

export function isAllowedOrigin(origin: string | undefined, allowed: ReadonlySet<string>): boolean {
  return origin === undefined || allowed.has(origin);
}
