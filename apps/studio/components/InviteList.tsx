import type { Invite } from '@microstudio/protocol';
import { expiryText } from '../lib/inviteOptions.ts';

/**
 * The room's invites as the node lists them: role, devices joined of the allowed uses, expiry
 * (a <time> with the exact instant), a Copy link button for the ones made in this tab (the node
 * never lists tokens) and Revoke.
 */
export function InviteList({
  invites,
  links,
  copied,
  now,
  onCopy,
  onRevoke,
}: {
  invites: readonly Invite[];
  /** Links by invite id, of the invites made in this tab. */
  links: Readonly<Record<string, string>>;
  /** The invite whose link was just copied. */
  copied: string | null;
  now: number;
  onCopy: (inviteId: string) => void;
  onRevoke: (inviteId: string) => void;
}) {
  if (invites.length === 0) return null;
  return (
    <ul aria-label="Active invites" className="invite-list">
      {invites.map((invite) => {
        const name = `${invite.role} invite ${invite.inviteId.slice(0, 8)}`;
        return (
          <li key={invite.inviteId} aria-label={name}>
            {invite.role} · {invite.used}
            {invite.uses ? `/${invite.uses}` : ''} joined · until{' '}
            <time dateTime={new Date(invite.expiresAt).toISOString()}>
              {expiryText(invite.expiresAt, now)}
            </time>
            {invite.revoked ? ' · revoked' : null}
            {!invite.revoked && links[invite.inviteId] ? (
              <button
                type="button"
                aria-label={`Copy link of ${name}`}
                onClick={() => onCopy(invite.inviteId)}
              >
                {copied === invite.inviteId ? 'Copied' : 'Copy link'}
              </button>
            ) : null}
            {invite.revoked ? null : (
              <button type="button" aria-label={`Revoke ${name}`} onClick={() => onRevoke(invite.inviteId)}>
                Revoke
              </button>
            )}
          </li>
        );
      })}
    </ul>
  );
}
