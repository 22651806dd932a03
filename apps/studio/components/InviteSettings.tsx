import { INVITE_EXPIRIES, USES_DEFAULTS_TEXT } from '../lib/inviteOptions.ts';

/**
 * The choices a new invite link is made with: how long it lives and how many devices it admits
 * (empty: one device for a guest link, any number for camera and viewer links).
 */
export function InviteSettings({
  ttlSeconds,
  uses,
  maxUses,
  disabled,
  onChange,
}: {
  ttlSeconds: number;
  uses: string;
  /** MICROSTUDIO_MAX_INVITE_USES when the studio reported it. */
  maxUses: number | null;
  disabled: boolean;
  onChange: (options: { ttlSeconds?: number; uses?: string }) => void;
}) {
  return (
    <fieldset className="invite-settings" disabled={disabled}>
      <legend>New invites</legend>
      <label>
        Invite expiry{' '}
        <select value={ttlSeconds} onChange={(event) => onChange({ ttlSeconds: Number(event.target.value) })}>
          {INVITE_EXPIRIES.map((choice) => (
            <option key={choice.seconds} value={choice.seconds}>
              {choice.label}
            </option>
          ))}
        </select>
      </label>
      <label>
        Invite uses{' '}
        <input
          type="number"
          inputMode="numeric"
          min={1}
          max={maxUses ?? undefined}
          step={1}
          placeholder="default"
          value={uses}
          aria-describedby="invite-uses-hint"
          onChange={(event) => onChange({ uses: event.target.value })}
        />
      </label>
      <small id="invite-uses-hint">
        Devices one link admits{maxUses ? ` (at most ${maxUses})` : ''}; {USES_DEFAULTS_TEXT}.
      </small>
    </fieldset>
  );
}
