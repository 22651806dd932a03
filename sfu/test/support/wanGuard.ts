// Safety net for emulated WANs: if the process exits or is interrupted before a test's close(),
// tear down synchronously anyway (the next run's removeStale() covers SIGKILL).
const teardowns = new Set<() => void>();
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

function runAll(): void {
  for (const teardown of [...teardowns]) {
    teardowns.delete(teardown);
    try {
      teardown();
    } catch {}
  }
}

function onSignal(signal: NodeJS.Signals): void {
  runAll();
  uninstall();
  // Listening replaced the default "terminate"; restore it unless someone else handles the signal.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function install(): void {
  process.on('exit', runAll);
  for (const signal of SIGNALS) process.on(signal, onSignal);
}

function uninstall(): void {
  process.off('exit', runAll);
  for (const signal of SIGNALS) process.off(signal, onSignal);
}

/** Registers a synchronous teardown; returns the function that unregisters it. */
export function guard(teardown: () => void): () => void {
  if (teardowns.size === 0) install();
  teardowns.add(teardown);
  return () => {
    teardowns.delete(teardown);
    if (teardowns.size === 0) uninstall();
  };
}
