/** A random id (crypto.randomUUID where available: it needs a secure context). */
export function randomId(): string {
  const c = globalThis.crypto;
  if (c && typeof c.randomUUID === 'function') return c.randomUUID();
  const bytes = new Uint8Array(16);
  c.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * A client id kept in sessionStorage under `scope`, so reloads and reconnects of the same tab keep
 * the same id (a camera's sourceId, and so its place on program and its tally), while two tabs
 * are two sources.
 */
export function stableClientId(
  scope: string,
  storage: Pick<Storage, 'getItem' | 'setItem'> | null = sessionStore(),
): string {
  const key = `microstudio:clientId:${scope}`;
  const existing = storage?.getItem(key);
  if (existing && /^[\w-]{8,128}$/.test(existing)) return existing;
  const id = randomId();
  storage?.setItem(key, id);
  return id;
}

function sessionStore(): Storage | null {
  try {
    return typeof sessionStorage === 'undefined' ? null : sessionStorage;
  } catch {
    return null;
  }
}
