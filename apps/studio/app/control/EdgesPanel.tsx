'use client';

import { edgeLatencyCell } from '../../lib/edgeLatency.ts';
import { useControlStore } from '../../stores/controlStore.ts';

/**
 * Ops view of the media fabric: the site and its edge nodes, their uplink and its latency (in
 * words and colour, lib/edgeLatency.ts), load and heartbeat. Read-only; the control controller
 * polls /api/fabric into the store.
 */
export function EdgesPanel() {
  const { loaded, nodes, edgeCount, error } = useControlStore((s) => s.edges);
  return (
    <section aria-label="Edges" className="edges">
      <h2>Edges</h2>
      {error ? (
        <p role="status" aria-label="Edges status" className="error">
          {error}
        </p>
      ) : null}
      {!loaded ? <p className="empty">Checking the media nodes…</p> : null}
      {loaded && !error && edgeCount === 0 ? (
        <p className="empty">No edge nodes: viewers watch at the site</p>
      ) : null}
      {nodes.length > 0 ? (
        <table aria-label="Media nodes" className="edges-table">
          <thead>
            <tr>
              <th scope="col">Node</th>
              <th scope="col">Role</th>
              <th scope="col">Region</th>
              <th scope="col">Uplink</th>
              <th scope="col">Latency to site</th>
              <th scope="col">Viewers</th>
              <th scope="col">Pipes</th>
              <th scope="col">Heartbeat</th>
            </tr>
          </thead>
          <tbody>
            {nodes.map((node) => {
              const latency = edgeLatencyCell(node);
              return (
                <tr key={node.nodeId} className={node.stale ? 'edge-stale' : undefined}>
                  <th scope="row">{node.nodeId}</th>
                  <td>{node.role}</td>
                  <td>{node.region}</td>
                  <td>
                    <span className={`uplink uplink-${node.uplink}`}>{node.uplink}</span>
                  </td>
                  <td className={`edge-rtt health-${latency.level}`} data-level={latency.level}>
                    {latency.text}
                  </td>
                  <td className={node.full ? 'edge-full' : undefined}>
                    {node.viewers}/{node.capacity}
                    {node.full ? ' full' : ''}
                  </td>
                  <td>{node.pipes}</td>
                  <td className="edge-heartbeat">
                    {node.stale ? `stale · ${node.ageSeconds} s ago` : `${node.ageSeconds} s ago`}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}
