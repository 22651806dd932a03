import { RECORDER_STALE_MS } from '@microstudio/protocol';
import { Gauge, Registry } from 'prom-client';
import type { RecordingDesks } from './RecordingDesk.ts';

const TRACK_STATES = ['starting', 'recording', 'stopping', 'failed'] as const;

/**
 * The recorders' latest reports as node metrics (they report to the node, so the node's /metrics
 * is where an ops engineer finds them): upload queue depth, disk free, tracks by state, and how
 * old the last report is. Read at scrape time from each room's desk; a room without a report
 * has no series.
 */
export function recorderMetrics(desks: RecordingDesks): Registry {
  const register = new Registry();
  const labelNames = ['room'] as const;
  // Collected by the first metric: the registry renders its metrics in registration order.
  const up: Gauge<'room'> = new Gauge({
    name: 'microstudio_recorder_up',
    help: `1 when the room's recorder reported within ${RECORDER_STALE_MS / 1000} s.`,
    labelNames,
    registers: [register],
    collect: () => refresh(),
  });
  const queue = new Gauge({
    name: 'microstudio_recorder_upload_queue',
    help: 'Files the recorder has journaled and not yet confirmed in the bucket.',
    labelNames,
    registers: [register],
  });
  const queueBytes = new Gauge({
    name: 'microstudio_recorder_upload_queue_bytes',
    help: 'Bytes of those files.',
    labelNames,
    registers: [register],
  });
  const diskFree = new Gauge({
    name: 'microstudio_recorder_disk_free_bytes',
    help: "Free space on the recorder's recordings filesystem.",
    labelNames,
    registers: [register],
  });
  const tracks = new Gauge({
    name: 'microstudio_recorder_tracks',
    help: 'Recorded tracks by state.',
    labelNames: ['room', 'state'] as const,
    registers: [register],
  });
  const reportAge = new Gauge({
    name: 'microstudio_recorder_report_age_seconds',
    help: "Seconds since the room's recorder last reported.",
    labelNames,
    registers: [register],
  });
  const refresh = (): void => {
    for (const metric of [up, queue, queueBytes, diskFree, tracks, reportAge]) metric.reset();
    const now = Date.now();
    for (const desk of desks.all()) {
      const status = desk.status;
      if (!status || desk.reportedAt === null) continue;
      const room = desk.state().roomId;
      const age = now - desk.reportedAt;
      up.set({ room }, age <= RECORDER_STALE_MS ? 1 : 0);
      reportAge.set({ room }, age / 1000);
      queue.set({ room }, status.uploads.pending);
      queueBytes.set({ room }, status.uploads.pendingBytes);
      diskFree.set({ room }, status.disk.freeBytes);
      for (const state of TRACK_STATES)
        tracks.set({ room, state }, status.tracks.filter((t) => t.state === state).length);
    }
  };
  return register;
}
