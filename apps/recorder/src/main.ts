import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig } from '@microstudio/config';
import { createLogger } from './log.ts';
import { NodeClient } from './NodeClient.ts';
import { PortAllocator } from './ports.ts';
import { Recorder } from './Recorder.ts';
import { createS3Client } from './s3.ts';
import { Uploader } from './Uploader.ts';
import { UploadJournal } from './UploadJournal.ts';

/**
 * `npm start -w @microstudio/recorder`: the recorder service. Talks to the media node at
 * MICROSTUDIO_SFU_URL with MICROSTUDIO_NODE_SECRET; records MICROSTUDIO_ROOM's sources when
 * MICROSTUDIO_RECORD_ALL=true; uploads to MICROSTUDIO_S3_BUCKET when set.
 */
function main(): void {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`recorder: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const log = createLogger(config.MICROSTUDIO_LOG_LEVEL);
  if (!config.MICROSTUDIO_NODE_SECRET) {
    process.stderr.write(
      'recorder: MICROSTUDIO_NODE_SECRET is not set (npm start sets one; see README: Recorder)\n',
    );
    process.exit(1);
  }
  // Relative paths are from the repository root, as for the studio's data directory.
  const dir = resolve(fileURLToPath(new URL('../../..', import.meta.url)), config.MICROSTUDIO_RECORDINGS_DIR);
  mkdirSync(dir, { recursive: true });
  const journal = new UploadJournal(join(dir, 'uploads.jsonl'));
  const bucket = config.MICROSTUDIO_S3_BUCKET;
  const uploader = bucket
    ? new Uploader({
        client: createS3Client({
          region: config.MICROSTUDIO_S3_REGION,
          ...(config.MICROSTUDIO_S3_ENDPOINT ? { endpoint: config.MICROSTUDIO_S3_ENDPOINT } : {}),
        }),
        bucket,
        journal,
        logger: log.child('upload'),
      })
    : undefined;
  uploader?.start();
  const recorder = new Recorder({
    node: new NodeClient(config.MICROSTUDIO_SFU_URL, config.MICROSTUDIO_NODE_SECRET),
    roomId: config.MICROSTUDIO_ROOM,
    dir,
    ports: new PortAllocator('127.0.0.1', config.MICROSTUDIO_RECORDER_RTP_PORT),
    ip: '127.0.0.1',
    segmentSeconds: config.MICROSTUDIO_SEGMENT_SECONDS,
    uploader,
    logger: log,
  });
  if (config.MICROSTUDIO_RECORD_ALL) recorder.follow();
  process.stdout.write(
    `recorder ready: ${dir} (room ${config.MICROSTUDIO_ROOM}, ${config.MICROSTUDIO_RECORD_ALL ? 'recording every source' : 'idle: set MICROSTUDIO_RECORD_ALL=true to record'}, uploads ${bucket ? `to ${bucket}` : 'off: no MICROSTUDIO_S3_BUCKET'}, ${journal.pending().length} queued)\n`,
  );
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    Promise.all([recorder.stop(), uploader?.stop()])
      .then(() => {
        journal.close();
        process.exit(0);
      })
      .catch(() => process.exit(1));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  // An idle recorder is still a service waiting for work: keep the process up until told to stop.
  const idle = setInterval(() => undefined, 1 << 30);
  process.once('exit', () => clearInterval(idle));
}

main();
