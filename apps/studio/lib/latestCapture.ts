/**
 * The newest of successive captures of one local source (the preview camera, the microphone).
 * Picking devices quickly starts getUserMedia calls that may settle out of order: only the newest
 * is kept, an older one that settles late is stopped at once, and the capture it replaces is
 * stopped only after the new one was adopted (shown, and published when live), so a live source
 * does not go dark in between.
 */
export class LatestCapture<T> {
  #current: T | undefined;
  #token = 0;
  #closed = false;
  readonly #stop: (capture: T) => void;
  readonly #onError: (error: unknown) => void;

  /** `stop` releases a capture; `onError` hears a failed acquisition (the newest one only). */
  constructor(stop: (capture: T) => void, onError: (error: unknown) => void) {
    this.#stop = stop;
    this.#onError = onError;
  }

  /** What is captured now; undefined before the first capture and after close(). */
  get current(): T | undefined {
    return this.#current;
  }

  /**
   * Acquires anew. Unless a newer call or close() came first, the result becomes current,
   * `adopt` is awaited, and then the previous capture is stopped. Resolves true once adopted;
   * false when the acquisition failed (reported only while it is the newest call: an overtaken
   * one no longer matters) or was overtaken (what it captured is stopped).
   */
  async replace(acquire: () => Promise<T>, adopt: (next: T) => void | Promise<void>): Promise<boolean> {
    const token = ++this.#token;
    let next: T;
    try {
      next = await acquire();
    } catch (error) {
      if (token === this.#token) this.#onError(error);
      return false;
    }
    if (this.#closed || token !== this.#token) {
      this.#stop(next);
      return false;
    }
    const old = this.#current;
    this.#current = next;
    await adopt(next);
    if (old !== undefined) this.#stop(old);
    return true;
  }

  /** Stops what is captured; acquisitions still under way are stopped when they settle. */
  close(): void {
    this.#closed = true;
    this.#token++;
    if (this.#current !== undefined) this.#stop(this.#current);
    this.#current = undefined;
  }
}
