import type { Source } from '@microstudio/protocol';
import type { types } from 'mediasoup';

export type Quality = Source['quality'];

/**
 * A source's connection quality from what the worker measures of its producers: mediasoup's
 * per-stream score (0–10, from loss and jitter of the received RTP). The camera's video decides
 * (that is what a director cuts to); a source with no video yet is judged by its audio. The best
 * simulcast stream counts: a low layer arriving cleanly still makes a usable multiview tile.
 * Before the first score arrives the source is presumed good, not flagged.
 */
export type ScoredProducer = Pick<types.Producer, 'kind' | 'paused' | 'score'>;

export function qualityOf(producers: readonly ScoredProducer[]): Quality {
  const producer = producers.find((p) => p.kind === 'video') ?? producers.find((p) => p.kind === 'audio');
  if (!producer || producer.paused || producer.score.length === 0) return 'good';
  const best = Math.max(...producer.score.map((s) => s.score));
  if (best >= 8) return 'good';
  if (best >= 5) return 'fair';
  if (best >= 1) return 'poor';
  return 'lost';
}
