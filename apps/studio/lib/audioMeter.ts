/**
 * Chrome computes a received track's `audioLevel` (getStats) only for audio that is played out.
 * The control room does not play every camera's sound, so each mic track is also pulled through a
 * muted <audio> element (so the browser decodes it) and a Web Audio analyser (not connected to the
 * speakers), which gives a level when getStats reports none.
 */
export class AudioMeters {
  #context: AudioContext | null = null;
  readonly #meters = new Map<
    string,
    {
      track: MediaStreamTrack;
      source: MediaStreamAudioSourceNode;
      analyser: AnalyserNode;
      sink: HTMLAudioElement;
    }
  >();
  readonly #buffer = new Float32Array(1024);

  /** Attaches (or replaces, or with null removes) the track metered under `key`. */
  set(key: string, track: MediaStreamTrack | null): void {
    const existing = this.#meters.get(key);
    if (existing && existing.track === track) return;
    if (existing) {
      existing.source.disconnect();
      existing.sink.srcObject = null;
      this.#meters.delete(key);
    }
    if (!track || typeof AudioContext === 'undefined') return;
    this.#context ??= new AudioContext();
    const stream = new MediaStream([track]);
    // Chrome decodes a remote WebRTC track only when a media element plays it (muted is enough).
    const sink = new Audio();
    sink.muted = true;
    sink.srcObject = stream;
    void sink.play().catch(() => undefined);
    const source = this.#context.createMediaStreamSource(stream);
    const analyser = this.#context.createAnalyser();
    analyser.fftSize = 1024;
    source.connect(analyser);
    this.#meters.set(key, { track, source, analyser, sink });
    void this.resume();
  }

  /** RMS level (0..1, scaled like audioLevel) of the track under `key`, or 0. */
  level(key: string): number {
    const meter = this.#meters.get(key);
    if (!meter) return 0;
    meter.analyser.getFloatTimeDomainData(this.#buffer);
    let sum = 0;
    for (const sample of this.#buffer) sum += sample * sample;
    return Math.min(1, Math.sqrt(sum / this.#buffer.length) * 2);
  }

  /** Autoplay policy may start the context suspended: call on a user gesture too. */
  async resume(): Promise<void> {
    if (this.#context?.state === 'suspended') await this.#context.resume().catch(() => undefined);
  }

  close(): void {
    for (const meter of this.#meters.values()) {
      meter.source.disconnect();
      meter.sink.srcObject = null;
    }
    this.#meters.clear();
    void this.#context?.close().catch(() => undefined);
    this.#context = null;
  }
}
