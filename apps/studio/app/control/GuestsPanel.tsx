'use client';

import type { RefObject } from 'react';
import type { ControlController } from '../../controllers/controlController.ts';
import { useControlStore } from '../../stores/controlStore.ts';

/** The green room: guests waiting to be admitted, and the admitted ones, with their controls. */
export function GuestsPanel({ controller }: { controller: RefObject<ControlController | null> }) {
  const guests = useControlStore((s) => s.guests);
  const c = () => controller.current;
  return (
    <section className="guests-panel" aria-label="Guests">
      <h2>Guests</h2>
      {guests.length === 0 ? (
        <p className="empty">No guests. “New guest invite” makes a link for one.</p>
      ) : (
        <ul aria-label="Guest list">
          {guests.map((guest) => (
            <li key={guest.guestId} aria-label={guest.displayName}>
              <span className="guest-name">{guest.displayName}</span>
              <span className="guest-state">
                {guest.state === 'waiting' ? 'waiting' : 'admitted'}
                {guest.muted ? ' · muted' : ''}
              </span>
              {guest.state === 'waiting' ? (
                <>
                  <button
                    type="button"
                    aria-label={`Admit ${guest.displayName}`}
                    onClick={() => c()?.guestAction('admit', guest.guestId)}
                  >
                    Admit
                  </button>
                  <button
                    type="button"
                    aria-label={`Reject ${guest.displayName}`}
                    onClick={() => c()?.guestAction('reject', guest.guestId)}
                  >
                    Reject
                  </button>
                </>
              ) : null}
              <button
                type="button"
                aria-label={`${guest.muted ? 'Unmute' : 'Mute'} ${guest.displayName}`}
                aria-pressed={guest.muted}
                onClick={() => c()?.guestAction(guest.muted ? 'unmute' : 'mute', guest.guestId)}
              >
                {guest.muted ? 'Unmute' : 'Mute'}
              </button>
              {guest.state === 'admitted' ? (
                <button
                  type="button"
                  aria-label={`Remove ${guest.displayName}`}
                  onClick={() => c()?.guestAction('remove', guest.guestId)}
                >
                  Remove
                </button>
              ) : null}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
