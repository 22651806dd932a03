import { networkInterfaces } from 'node:os';

/** First non-internal IPv4 address: what phones on the venue's LAN can reach. */
export function detectLanAddress(): string | undefined {
  for (const addresses of Object.values(networkInterfaces())) {
    for (const address of addresses ?? []) {
      if (address.family === 'IPv4' && !address.internal) return address.address;
    }
  }
  return undefined;
}

/** The address browsers are told to reach: configured, else the LAN address, else loopback. */
export function announcedAddress(configured: string | undefined): string {
  return configured ?? detectLanAddress() ?? '127.0.0.1';
}
