/**
 * A small typed event emitter (mediasoup style): listeners are typed by an event map and a
 * throwing listener is reported, never allowed to break the emitter's caller.
 */
// biome-ignore lint/suspicious/noExplicitAny: a listener map needs a variance-free bound
type Listener = (...args: any[]) => void;

export type EventMap = { [event: string]: unknown[] };

export class Emitter<E extends EventMap> {
  readonly #listeners = new Map<keyof E, Set<Listener>>();

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof E>(event: K, listener: (...args: E[K]) => void): () => void {
    let set = this.#listeners.get(event);
    if (!set) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(listener);
    return () => this.off(event, listener);
  }

  off<K extends keyof E>(event: K, listener: (...args: E[K]) => void): void {
    this.#listeners.get(event)?.delete(listener);
  }

  /** Calls every listener; an exception in one is logged and does not stop the others. */
  protected emit<K extends keyof E>(event: K, ...args: E[K]): void {
    for (const listener of [...(this.#listeners.get(event) ?? [])]) {
      try {
        listener(...args);
      } catch (error) {
        console.error(`[microstudio] listener for "${String(event)}" threw`, error);
      }
    }
  }

  protected removeAllListeners(): void {
    this.#listeners.clear();
  }
}
