'use client';

import { planRecords } from '@microstudio/protocol';
import { LevelCell, LevelText } from '../../components/LevelText.tsx';
import { edgeLatencyCell } from '../../lib/edgeLatency.ts';
import { edgeSummary, healthRows } from '../../lib/health.ts';
import { recorderSummary } from '../../lib/recording.ts';
import { useControlStore } from '../../stores/controlStore.ts';

/**
 * The on-site technician's view: per source what the node receives (bitrate, loss, quality) and
 * what the camera's device reports (battery, network), each with its value in words and a colour
 * by threshold (lib/health.ts); then the edges' uplinks and the recorder at a glance
 * (lib/recording.ts). Read-only, fed by `health:sources`, the Edges poll and `recorder:state`.
 */
export function HealthPanel() {
  const health = useControlStore((s) => s.health);
  const edges = useControlStore((s) => s.edges);
  const recording = useControlStore((s) => s.recording);
  const names = useControlStore((s) => s.names);
  const recorder = recorderSummary({
    recorder: recording.recorder,
    stale: recording.stale,
    plan: recording.plan,
    plannedPresent: Object.keys(names).filter((id) => planRecords(recording.plan, id)).length,
  });
  const rows = healthRows(health);
  const { up, down } = edgeSummary(edges.nodes);
  return (
    <section aria-label="Health" className="health">
      <h2>Health</h2>
      {health === null ? <p className="empty">Waiting for the node's first health report…</p> : null}
      {health !== null && rows.length === 0 ? <p className="empty">No sources</p> : null}
      {rows.length > 0 ? (
        <table aria-label="Source health" className="edges-table health-table">
          <thead>
            <tr>
              <th scope="col">Source</th>
              <th scope="col">Bitrate</th>
              <th scope="col">Loss</th>
              <th scope="col">Battery</th>
              <th scope="col">Network</th>
              <th scope="col">Quality</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={row.sourceId} data-source-id={row.sourceId}>
                <th scope="row">{row.name}</th>
                <LevelCell cell={row.bitrate} label="bitrate" />
                <LevelCell cell={row.loss} label="loss" />
                <LevelCell cell={row.battery} label="battery" />
                <LevelCell cell={row.network} label="network" />
                <LevelCell cell={row.quality} label="quality" />
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <ul aria-label="Links" className="health-links">
        <li>
          Edges:{' '}
          {!edges.loaded ? (
            'checking…'
          ) : edges.edgeCount === 0 ? (
            'none (viewers watch at the site)'
          ) : (
            <>
              <span className={up > 0 ? 'health-good' : 'health-unknown'}>{up} up</span>
              {' · '}
              <span className={down > 0 ? 'health-bad' : 'health-good'}>{down} down</span>
            </>
          )}
          {edges.nodes.some((n) => n.role === 'edge') ? (
            <ul aria-label="Edge latency to the site" className="health-edges">
              {edges.nodes
                .filter((n) => n.role === 'edge')
                .sort((a, b) => a.nodeId.localeCompare(b.nodeId))
                .map((n) => (
                  <li key={n.nodeId} data-node-id={n.nodeId}>
                    {n.nodeId} ({n.region}): <LevelText cell={edgeLatencyCell(n)} label="edge-latency" />
                  </li>
                ))}
            </ul>
          ) : null}
        </li>
        <li className="health-recorder" data-recorder-level={recorder.recorder.level}>
          Recorder: <LevelText cell={recorder.recorder} label="recorder" />
          {recorder.disk ? (
            <>
              {' · '}
              <LevelText cell={recorder.disk} label="disk" />
            </>
          ) : null}
          {recorder.uploads ? (
            <>
              {' · '}
              <LevelText cell={recorder.uploads} label="uploads" />
            </>
          ) : null}
        </li>
      </ul>
    </section>
  );
}
