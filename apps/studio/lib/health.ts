import type { HealthSources, SourceHealth } from '@microstudio/protocol';

/** How a figure reads at a glance; every cell says it in words too (never colour alone). */
export type HealthLevel = 'good' | 'warn' | 'bad' | 'unknown';

export interface HealthCell {
  text: string;
  level: HealthLevel;
}

export interface HealthRow {
  sourceId: string;
  name: string;
  bitrate: HealthCell;
  loss: HealthCell;
  battery: HealthCell;
  network: HealthCell;
  quality: HealthCell;
}

/** Thresholds of the Health panel (issue "Telemetry"). */
export const HEALTH_THRESHOLDS = {
  bitrateWarnKbps: 150,
  bitrateBadKbps: 50,
  lossWarnPct: 2,
  lossBadPct: 8,
  batteryWarnPct: 30,
  batteryBadPct: 15,
} as const;

const t = HEALTH_THRESHOLDS;

/** "1,234 kbit/s", plus a word when it is not good. */
export function bitrateCell(kbps: number): HealthCell {
  const text = `${Math.round(kbps).toLocaleString('en-US')} kbit/s`;
  if (kbps < t.bitrateBadKbps) return { text: `${text} · very low`, level: 'bad' };
  if (kbps < t.bitrateWarnKbps) return { text: `${text} · low`, level: 'warn' };
  return { text, level: 'good' };
}

export function lossCell(pct: number): HealthCell {
  const text = `${pct.toFixed(1)} % loss`;
  if (pct > t.lossBadPct) return { text: `${text} · very high`, level: 'bad' };
  if (pct > t.lossWarnPct) return { text: `${text} · high`, level: 'warn' };
  return { text, level: 'good' };
}

/** Below the thresholds only while discharging: a charging device is not going to die on air. */
export function batteryCell(battery: SourceHealth['battery']): HealthCell {
  if (!battery) return { text: 'not reported', level: 'unknown' };
  const pct = Math.round(battery.level * 100);
  const text = `${pct} %${battery.charging ? ' · charging' : ''}`;
  if (battery.charging) return { text, level: 'good' };
  if (pct < t.batteryBadPct) return { text: `${text} · critical`, level: 'bad' };
  if (pct < t.batteryWarnPct) return { text: `${text} · low`, level: 'warn' };
  return { text, level: 'good' };
}

/** No threshold is defined for the network type: it is shown, not graded. */
export function networkCell(networkType: SourceHealth['networkType']): HealthCell {
  return networkType ? { text: networkType, level: 'unknown' } : { text: 'not reported', level: 'unknown' };
}

export function qualityCell(quality: SourceHealth['quality']): HealthCell {
  const level: HealthLevel = quality === 'good' ? 'good' : quality === 'fair' ? 'warn' : 'bad';
  return { text: quality, level };
}

export function healthRows(health: HealthSources | null): HealthRow[] {
  return (health?.sources ?? []).map((s) => ({
    sourceId: s.sourceId,
    name: s.displayName,
    bitrate: bitrateCell(s.bitrateKbps),
    loss: lossCell(s.lossPct),
    battery: batteryCell(s.battery),
    network: networkCell(s.networkType),
    quality: qualityCell(s.quality),
  }));
}

/** Edges up and down, from the Edges panel's rows (a stale heartbeat counts as down). */
export function edgeSummary(nodes: readonly { role: string; uplink: string; stale: boolean }[]): {
  up: number;
  down: number;
} {
  const edges = nodes.filter((n) => n.role === 'edge');
  const up = edges.filter((n) => n.uplink === 'up' && !n.stale).length;
  return { up, down: edges.length - up };
}
