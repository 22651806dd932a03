import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { INVITE_USES_CEILING, MAX_INVITE_TTL_SECONDS, requests } from '@microstudio/protocol';
import { DEFAULT_INVITE_TTL_SECONDS, INVITE_EXPIRIES, inviteRequest } from '../lib/inviteOptions.ts';

const schema = requests['invite:create'].request;

describe('inviteRequest', () => {
  it('offers 1 h to 7 d, none beyond MAX_INVITE_TTL_SECONDS, the default among them', () => {
    assert.deepEqual(
      INVITE_EXPIRIES.map((c) => c.label),
      ['1 hour', '12 hours', '24 hours', '7 days'],
    );
    assert.ok(INVITE_EXPIRIES.every((c) => c.seconds <= MAX_INVITE_TTL_SECONDS));
    assert.ok(INVITE_EXPIRIES.some((c) => c.seconds === DEFAULT_INVITE_TTL_SECONDS));
  });

  it("makes requests the node's schema accepts, with the chosen expiry and uses", () => {
    const made = inviteRequest('guest', 3600, ' 2 ', 1000);
    assert.deepEqual(made, {
      ok: true,
      request: { role: 'guest', ttlSeconds: 3600, label: 'guest link', uses: 2 },
    });
    const all = [made, ...INVITE_EXPIRIES.map((c) => inviteRequest('camera', c.seconds, '', null))];
    for (const each of all)
      assert.ok(each.ok && schema.safeParse(each.request).success, JSON.stringify(each));
  });

  it('an empty count: one device for a guest link, any number for camera and viewer links', () => {
    const uses = (role: 'guest' | 'camera' | 'viewer') => {
      const made = inviteRequest(role, 3600, '', 1000);
      return made.ok ? made.request.uses : 'refused';
    };
    assert.deepEqual([uses('guest'), uses('camera'), uses('viewer')], [1, undefined, undefined]);
  });

  it("refuses counts that are no whole number from 1, and expiries not offered; passes counts above the studio's max to the node to judge", () => {
    for (const typed of ['0', '-1', '1.5', 'two', String(INVITE_USES_CEILING + 1)]) {
      const made = inviteRequest('guest', 3600, typed, 1000);
      assert.equal(made.ok, false, typed);
      assert.match(made.ok ? '' : made.error, /whole number from 1 to 1000/);
    }
    assert.equal(inviteRequest('viewer', 999, '', null).ok, false);
    // The node refuses it with LIMIT_REACHED and the page says so in words (its configuration decides).
    assert.equal(inviteRequest('viewer', 3600, '1001', 1000).ok, true);
  });
});
