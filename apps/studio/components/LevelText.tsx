import type { HealthCell } from '../lib/health.ts';

/** A figure in words with its level as a colour class (health-good/warn/bad/unknown), never colour alone. */
export function LevelText({ cell, label }: { cell: HealthCell; label: string }) {
  return (
    <span className={`health-${cell.level}`} data-level={cell.level} data-label={label}>
      {cell.text}
    </span>
  );
}

/** The same as a table cell (the Health and Recording tables). */
export function LevelCell({ cell, label }: { cell: HealthCell; label: string }) {
  return (
    <td className={`health-cell health-${cell.level}`} data-level={cell.level} data-label={label}>
      {cell.text}
    </td>
  );
}
