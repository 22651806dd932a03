/**
 * Where a track's media sits on the show clock (the box's system clock, Unix ms).
 *
 * ffmpeg's timeline for a track starts at the first RTP packet it receives and then follows the
 * RTP timestamps: the sender's capture clock. Mapping it to the show clock by the first packet's
 * arrival alone (the node's anchor) is off by however late that packet was: a sender that lags
 * (CPU-starved encoder, a big keyframe being paced out, a Wi-Fi burst) and then catches up
 * delivers media faster than real time for a while, so every segment of that source was placed
 * up to seconds too late, and each source by a different amount. Instead, every packet's arrival
 * is compared with its media time: `arrival - mediaTime` is the track's origin plus that packet's
 * delay, and the smallest value seen (the lower envelope) is the origin plus the pipeline's least
 * delay — the packets that were late do not move it. The minimum is kept per media second over a
 * sliding window, so a sender clock that runs slightly slow or fast against ours is followed.
 */
export class ArrivalClock {
  readonly #clockRate: number;
  readonly #windowSeconds: number;
  #lastTimestamp = 0;
  /** RTP ticks since the first packet (unwrapped). */
  #ticks = 0;
  #started = false;
  /** Per media second (ascending): the smallest arrival - media time seen in it. */
  readonly #bins: { second: number; min: number }[] = [];
  #firstArrivalMs: number | undefined;
  #firstTimestamp: number | undefined;
  packets = 0;

  constructor(clockRate: number, windowSeconds = 60) {
    this.#clockRate = clockRate;
    this.#windowSeconds = windowSeconds;
  }

  /** The RTP timestamp of the first packet: media time 0 in ffmpeg's timeline. */
  get firstTimestamp(): number | undefined {
    return this.#firstTimestamp;
  }

  /** The first packet's arrival (what the node's anchor measures). */
  get firstArrivalMs(): number | undefined {
    return this.#firstArrivalMs;
  }

  /** Media time (ms since the first packet) of the newest packet. */
  get mediaMs(): number {
    return (this.#ticks * 1000) / this.#clockRate;
  }

  observe(rtpTimestamp: number, arrivalMs: number): void {
    const timestamp = rtpTimestamp >>> 0;
    if (!this.#started) {
      this.#started = true;
      this.#firstTimestamp = timestamp;
      this.#firstArrivalMs = arrivalMs;
    } else {
      // Signed 32-bit difference: wraps and reordered packets unwrap like ffmpeg's RTP demuxer.
      this.#ticks += (timestamp - this.#lastTimestamp) | 0;
    }
    this.#lastTimestamp = timestamp;
    this.packets += 1;
    const mediaMs = (this.#ticks * 1000) / this.#clockRate;
    const offset = arrivalMs - mediaMs;
    const second = Math.floor(mediaMs / 1000);
    for (let i = this.#bins.length - 1; i >= 0; i--) {
      const bin = this.#bins[i] as { second: number; min: number };
      if (bin.second === second) {
        bin.min = Math.min(bin.min, offset);
        return;
      }
      if (bin.second < second) {
        this.#bins.splice(i + 1, 0, { second, min: offset });
        this.#prune();
        return;
      }
    }
    this.#bins.unshift({ second, min: offset });
    this.#prune();
  }

  /**
   * Show-clock time (Unix ms) of media time 0, from the packets of the last `windowSeconds` of
   * media; undefined before the first packet.
   */
  originMs(): number | undefined {
    const newest = this.#bins.at(-1);
    if (!newest) return undefined;
    let min = Number.POSITIVE_INFINITY;
    for (const bin of this.#bins)
      if (bin.second > newest.second - this.#windowSeconds) min = Math.min(min, bin.min);
    return min;
  }

  #prune(): void {
    const newest = this.#bins.at(-1)?.second ?? 0;
    while ((this.#bins[0]?.second ?? newest) <= newest - 2 * this.#windowSeconds) this.#bins.shift();
  }
}
