'use client';

import type { RefObject } from 'react';
import type { ControlController } from '../../controllers/controlController.ts';
import { useControlStore } from '../../stores/controlStore.ts';

/** Invite links: a camera link (with its QR code for phones), a viewer link, and revoking. */
export function CameraJoin({ controller }: { controller: RefObject<ControlController | null> }) {
  const cameraUrl = useControlStore((s) => s.cameraUrl);
  const qrDataUrl = useControlStore((s) => s.qrDataUrl);
  const viewerUrl = useControlStore((s) => s.viewerUrl);
  const guestUrl = useControlStore((s) => s.guestUrl);
  const guestQrDataUrl = useControlStore((s) => s.guestQrDataUrl);
  const invites = useControlStore((s) => s.invites);
  // Invites are made by the node: the buttons wait until the control room has joined.
  const offline = useControlStore((s) => s.connection !== 'connected');
  return (
    <aside className="camera-join" aria-label="Invites">
      <h2>Invites</h2>
      <div className="invite-actions">
        <button type="button" disabled={offline} onClick={() => controller.current?.createInvite('camera')}>
          New camera invite
        </button>
        <button type="button" disabled={offline} onClick={() => controller.current?.createInvite('viewer')}>
          New viewer link
        </button>
        <button type="button" disabled={offline} onClick={() => controller.current?.createInvite('guest')}>
          New guest invite
        </button>
      </div>
      {qrDataUrl ? (
        // biome-ignore lint/performance/noImgElement: a data: URL QR code needs no image optimisation
        <img src={qrDataUrl} alt="QR code for the camera join link" width={256} height={256} />
      ) : null}
      {cameraUrl ? (
        <a aria-label="Camera join link" href={cameraUrl} target="_blank" rel="noreferrer">
          Camera join link
        </a>
      ) : null}
      {viewerUrl ? (
        <a aria-label="Viewer link" href={viewerUrl} target="_blank" rel="noreferrer">
          Viewer link
        </a>
      ) : null}
      {guestQrDataUrl ? (
        // biome-ignore lint/performance/noImgElement: a data: URL QR code needs no image optimisation
        <img src={guestQrDataUrl} alt="QR code for the guest join link" width={256} height={256} />
      ) : null}
      {guestUrl ? (
        <a aria-label="Guest join link" href={guestUrl} target="_blank" rel="noreferrer">
          Guest join link (one device)
        </a>
      ) : null}
      {invites.length > 0 ? (
        <ul aria-label="Active invites">
          {invites.map((invite) => (
            <li key={invite.inviteId}>
              {invite.role} · {invite.used}
              {invite.uses ? `/${invite.uses}` : ''} joined · until{' '}
              {new Date(invite.expiresAt).toLocaleTimeString()}
              {invite.revoked ? (
                ' · revoked'
              ) : (
                <button
                  type="button"
                  aria-label={`Revoke ${invite.role} invite ${invite.inviteId.slice(0, 8)}`}
                  onClick={() => controller.current?.revokeInvite(invite.inviteId)}
                >
                  Revoke
                </button>
              )}
            </li>
          ))}
        </ul>
      ) : null}
    </aside>
  );
}
