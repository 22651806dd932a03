import type { Logger } from '../log.ts';
import { type Fabric, FabricError } from './Fabric.ts';
import { LocalFabric } from './LocalFabric.ts';
import { RedisFabric, type RedisFabricOptions } from './RedisFabric.ts';

/** Tuning passed through to RedisFabric (tests shorten timeouts and isolate keys). */
export type RedisTuning = Omit<RedisFabricOptions, 'url' | 'logger'>;

/**
 * The fabric MICROSTUDIO_FABRIC_URL asks for: none → in memory (one node on one box);
 * redis:// or rediss:// → Redis (several nodes). Returns at once: a Redis fabric connects in
 * the background and its operations reject with FabricError until the store answers.
 */
export function createFabric(url: string | undefined, logger: Logger, tuning: RedisTuning = {}): Fabric {
  if (url === undefined || url === '') return new LocalFabric();
  let protocol: string;
  try {
    protocol = new URL(url).protocol;
  } catch {
    throw new FabricError('the fabric URL is not a URL (expected redis://host:port or rediss://…)');
  }
  if (protocol !== 'redis:' && protocol !== 'rediss:') {
    throw new FabricError(`unsupported fabric URL scheme "${protocol}" (expected redis: or rediss:)`);
  }
  return new RedisFabric({ ...tuning, url, logger: logger.child('fabric') });
}
