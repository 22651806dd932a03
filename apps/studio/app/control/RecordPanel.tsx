'use client';

import type { RefObject } from 'react';
import { LevelCell, LevelText } from '../../components/LevelText.tsx';
import type { ControlController } from '../../controllers/controlController.ts';
import {
  diskCell,
  planRecordsAnything,
  recorderErrorLines,
  recordRows,
  uploadCell,
} from '../../lib/recording.ts';
import { useControlStore } from '../../stores/controlStore.ts';

/**
 * Recording: what the room records (Record all, or per source; the plan lives on the media node)
 * and what the recorder reports back (per source state, duration and size; disk; upload queue;
 * its errors). Fed by `recorder:state`; every figure is in words, colour only repeats it.
 */
export function RecordPanel({ controller }: { controller: RefObject<ControlController | null> }) {
  const { plan, recorder, stale, seenNames, error } = useControlStore((s) => s.recording);
  const names = useControlStore((s) => s.names);
  const offline = useControlStore((s) => s.connection !== 'connected');
  const rows = recordRows({ names, seenNames, plan, recorder, stale });
  const errors = recorder && !stale ? recorderErrorLines(recorder.errors, seenNames) : [];
  const c = () => controller.current;
  return (
    <section aria-label="Recording" className="record-panel">
      <h2>Recording</h2>
      <div className="record-actions">
        <button
          type="button"
          className="record-all"
          aria-pressed={plan.all}
          aria-keyshortcuts="R"
          disabled={offline}
          onClick={() => c()?.toggleRecordAll()}
        >
          {plan.all ? 'Stop recording all' : 'Record all'}
        </button>
        {/* Always in the page: a live region announces changes, not its own arrival. */}
        <p
          role="status"
          aria-label="Recorder status"
          // Not reporting is a fault only when something should be recording.
          className={`record-reporting ${!stale ? 'health-good' : planRecordsAnything(plan) ? 'health-bad' : 'health-unknown'}`}
        >
          {stale ? 'Recorder not reporting' : 'Recorder reporting'}
        </p>
      </div>
      {error ? (
        <p role="alert" className="error record-error">
          {error}
        </p>
      ) : null}
      {rows.length === 0 ? (
        <p className="empty">No sources to record yet</p>
      ) : (
        <table aria-label="Recorded sources" className="edges-table record-table">
          <thead>
            <tr>
              <th scope="col">Source</th>
              <th scope="col">Record</th>
              <th scope="col">State</th>
              <th scope="col">Duration</th>
              <th scope="col">Size</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={row.sourceId} data-source-id={row.sourceId}>
                <th scope="row">{row.name}</th>
                <td>
                  <button
                    type="button"
                    aria-label={`Record ${row.name}`}
                    aria-pressed={row.planned}
                    disabled={offline}
                    onClick={() => c()?.setRecording(row.sourceId, !row.planned)}
                  >
                    Record
                  </button>
                </td>
                <LevelCell cell={row.state} label="state" />
                <td data-label="duration">{row.duration}</td>
                <td data-label="size">{row.size}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {recorder && !stale ? (
        <ul aria-label="Recorder storage" className="health-links">
          <li>
            <LevelText cell={diskCell(recorder.disk)} label="disk" />
          </li>
          <li>
            <LevelText cell={uploadCell(recorder.uploads)} label="uploads" />
            {recorder.uploads.lastError ? (
              <>
                {' · '}
                <span className="health-bad" data-label="upload-error">
                  last error: {recorder.uploads.lastError}
                </span>
              </>
            ) : null}
          </li>
        </ul>
      ) : null}
      <div role="status" aria-label="Recorder errors" className="record-errors">
        {errors.length > 0 ? (
          <>
            <h3>Recorder errors</h3>
            <ul>
              {errors.map((e) => (
                <li key={e.key} className="health-bad">
                  <time>{e.time}</time> {e.text}
                </li>
              ))}
            </ul>
          </>
        ) : null}
      </div>
    </section>
  );
}
