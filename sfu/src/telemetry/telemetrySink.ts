import type { TelemetryReport } from '@microstudio/protocol';
import type { TelemetryOrigin, TelemetrySink } from '../signaling/handlers.ts';
import type { Spool } from './Spool.ts';

/**
 * A TelemetrySink that records into `inner` (the node's metrics) and also spools every validated
 * report as `{"type":"telemetry","time",origin,report}` for shipping. Signaling is unchanged:
 * node.ts hands this to createSignalingServer in place of clientTelemetry(registry) when
 * shipping is on.
 */
export function spoolingTelemetry(inner: TelemetrySink, spool: Spool): TelemetrySink {
  return {
    record(origin: TelemetryOrigin, report: TelemetryReport): void {
      inner.record(origin, report);
      spool.append({
        type: 'telemetry',
        time: new Date().toISOString(),
        role: origin.role,
        room: origin.roomId,
        source: origin.sourceId ?? null,
        report,
      });
    },
  };
}
