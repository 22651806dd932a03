import type { ConnectionState } from '@microstudio/client';

/** The status line every page shows; its text is exactly the connection state. */
export function ConnectionStatus({ state }: { state: ConnectionState }) {
  return (
    <p role="status" aria-label="Connection state" className={`connection connection-${state}`}>
      {state}
    </p>
  );
}
