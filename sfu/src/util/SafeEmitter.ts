import { EventEmitter } from 'node:events';

/** Event map: event name → listener argument tuple. */
export type EventMap = Record<string, unknown[]>;

/**
 * A typed EventEmitter whose `safeEmit` never lets a listener's exception escape into the
 * emitter's own logic (mediasoup's EnhancedEventEmitter pattern).
 */
export class SafeEmitter<E extends EventMap> {
  readonly #emitter = new EventEmitter();
  #onListenerError: (event: string, error: unknown) => void;

  constructor(onListenerError: (event: string, error: unknown) => void = () => {}) {
    this.#emitter.setMaxListeners(Number.POSITIVE_INFINITY);
    this.#onListenerError = onListenerError;
  }

  on<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this {
    this.#emitter.on(event, listener as (...args: unknown[]) => void);
    return this;
  }

  once<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this {
    this.#emitter.once(event, listener as (...args: unknown[]) => void);
    return this;
  }

  off<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this {
    this.#emitter.off(event, listener as (...args: unknown[]) => void);
    return this;
  }

  removeAllListeners(): void {
    this.#emitter.removeAllListeners();
  }

  safeEmit<K extends keyof E & string>(event: K, ...args: E[K]): void {
    for (const listener of this.#emitter.rawListeners(event)) {
      try {
        (listener as (...a: E[K]) => void)(...args);
      } catch (error) {
        this.#onListenerError(event, error);
      }
    }
  }
}
