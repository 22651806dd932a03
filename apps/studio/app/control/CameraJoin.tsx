'use client';

import type { RefObject } from 'react';
import { InviteList } from '../../components/InviteList.tsx';
import { InviteSettings } from '../../components/InviteSettings.tsx';
import type { ControlController } from '../../controllers/controlController.ts';
import { useControlStore } from '../../stores/controlStore.ts';

/**
 * Invite links: the expiry and use count new ones get, a camera link (with its QR code for
 * phones), a viewer link, a guest link (with its QR code), and the list with Copy link and Revoke.
 */
export function CameraJoin({ controller }: { controller: RefObject<ControlController | null> }) {
  const cameraUrl = useControlStore((s) => s.cameraUrl);
  const qrDataUrl = useControlStore((s) => s.qrDataUrl);
  const viewerUrl = useControlStore((s) => s.viewerUrl);
  const guestUrl = useControlStore((s) => s.guestUrl);
  const guestQrDataUrl = useControlStore((s) => s.guestQrDataUrl);
  const invites = useControlStore((s) => s.invites);
  const inviteLinks = useControlStore((s) => s.inviteLinks);
  const copied = useControlStore((s) => s.copied);
  const inviteTtlSeconds = useControlStore((s) => s.inviteTtlSeconds);
  const inviteUses = useControlStore((s) => s.inviteUses);
  const maxInviteUses = useControlStore((s) => s.maxInviteUses);
  // Invites are made by the node: the buttons wait until the control room has joined.
  const offline = useControlStore((s) => s.connection !== 'connected');
  return (
    <aside className="camera-join" aria-label="Invites">
      <h2>Invites</h2>
      <InviteSettings
        ttlSeconds={inviteTtlSeconds}
        uses={inviteUses}
        maxUses={maxInviteUses}
        disabled={offline}
        onChange={(options) => controller.current?.setInviteOptions(options)}
      />
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
          Guest join link
        </a>
      ) : null}
      <InviteList
        invites={invites}
        links={inviteLinks}
        copied={copied}
        now={Date.now()}
        onCopy={(inviteId) => controller.current?.copyInviteLink(inviteId)}
        onRevoke={(inviteId) => controller.current?.revokeInvite(inviteId)}
      />
    </aside>
  );
}
