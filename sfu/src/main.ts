import { ConfigError, loadConfig } from '@microstudio/config';
import { createLogger } from './log.ts';
import { type MediaNode, startNode } from './node.ts';

/**
 * `node ../scripts/run-sfu.mjs src/main.ts`: starts the media node with configuration from the
 * environment, prints one "sfu listening on ..." line, and closes gracefully on SIGTERM/SIGINT.
 */
async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`sfu: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const log = createLogger(config.MICROSTUDIO_LOG_LEVEL, undefined, 'sfu', config.MICROSTUDIO_LOG_FORMAT);
  let node: MediaNode;
  try {
    node = await startNode(config, { logger: log });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const hint =
      code === 'EADDRINUSE'
        ? ' (is another node running? set MICROSTUDIO_SFU_PORT / MICROSTUDIO_RTC_PORT)'
        : '';
    process.stderr.write(
      `sfu: failed to start: ${error instanceof Error ? error.message : String(error)}${hint}\n`,
    );
    process.exit(1);
  }
  const [first, last] = node.pool.portRange;
  process.stdout.write(
    `sfu listening on ${node.url} (workers: ${node.pool.size}, rtc ports ${first}-${last}, announced ${node.announcedAddress})\n`,
  );

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down', { signal });
    const force = setTimeout(() => {
      log.error('graceful shutdown timed out');
      process.exit(1);
    }, 5000);
    force.unref();
    node
      .close()
      .then(() => process.exit(0))
      .catch((error: unknown) => {
        log.error('shutdown failed', { error: String(error) });
        process.exit(1);
      });
  };
  // mediasoup registers process.once('SIGTERM') in its Worker; ours closes everything first.
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(
    `sfu: fatal: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
