import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SignJWT } from 'jose';
import {
  grantsOf,
  hasGrant,
  isPeerRole,
  needsAdmission,
  TokenError,
  TokenIssuer,
  tokenRoles,
} from '../src/index.ts';

const SECRET = 'a'.repeat(32);
const OTHER = 'b'.repeat(32);

const rejects = async (promise: Promise<unknown>, reason: string) => {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof TokenError, String(error));
    assert.equal(error.reason, reason);
    return true;
  });
};

describe('TokenIssuer', () => {
  it('refuses a short secret', () => {
    assert.throws(() => new TokenIssuer('short'), TypeError);
  });

  it('issue() then verify() round-trips room, role, uses and label with a unique id', async () => {
    const issuer = new TokenIssuer(SECRET);
    const a = await issuer.issue({ room: 'main', role: 'camera', ttlSeconds: 60, uses: 3, label: 'Cam 2' });
    const b = await issuer.issue({ room: 'main', role: 'camera', ttlSeconds: 60 });
    const claims = await issuer.verify(a.token);
    assert.equal(claims.room, 'main');
    assert.equal(claims.role, 'camera');
    assert.equal(claims.uses, 3);
    assert.equal(claims.label, 'Cam 2');
    assert.equal(claims.exp - claims.iat, 60);
    assert.notEqual(a.claims.jti, b.claims.jti);
  });

  it('verify() refuses an expired token', async () => {
    let now = Date.now();
    const issuer = new TokenIssuer(SECRET, () => now);
    const { token } = await issuer.issue({ room: 'main', role: 'viewer', ttlSeconds: 10 });
    now += 11_000;
    await rejects(issuer.verify(token), 'expired');
  });

  it('verify() refuses a token signed with another secret (forged)', async () => {
    const { token } = await new TokenIssuer(OTHER).issue({ room: 'main', role: 'director', ttlSeconds: 60 });
    await rejects(new TokenIssuer(SECRET).verify(token), 'signature');
  });

  it('verify() refuses a token whose payload was edited after signing', async () => {
    const { token } = await new TokenIssuer(SECRET).issue({ room: 'main', role: 'viewer', ttlSeconds: 60 });
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    claims.role = 'director';
    const edited = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
    await rejects(new TokenIssuer(SECRET).verify(edited), 'signature');
  });

  it('verify() refuses a correctly signed token with extra claims', async () => {
    const key = new TextEncoder().encode(SECRET);
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({
      iss: 'microstudio',
      aud: 'microstudio-node',
      iat: now,
      exp: now + 60,
      jti: 'x',
      room: 'main',
      role: 'viewer',
      grants: ['subscribe'],
      admin: true,
    })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(key);
    await rejects(new TokenIssuer(SECRET).verify(token), 'claims');
  });

  it('verify() refuses another audience, the none algorithm and garbage', async () => {
    const key = new TextEncoder().encode(SECRET);
    const now = Math.floor(Date.now() / 1000);
    const otherAudience = await new SignJWT({
      iss: 'microstudio',
      aud: 'someone-else',
      iat: now,
      exp: now + 60,
    })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(key);
    await rejects(new TokenIssuer(SECRET).verify(otherAudience), 'claims');
    const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"role":"director"}').toString('base64url')}.`;
    await rejects(new TokenIssuer(SECRET).verify(unsigned), 'malformed');
    await rejects(new TokenIssuer(SECRET).verify('not-a-token'), 'malformed');
  });
});

/** A correctly signed token with exactly these claims (what an attacker holding a leaked secret, or a buggy minter, could make). */
const signed = async (claims: Record<string, unknown>) => {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({
    iss: 'microstudio',
    aud: 'microstudio-node',
    iat: now,
    exp: now + 60,
    jti: 'j',
    ...claims,
  })
    .setProtectedHeader({ alg: 'HS256' })
    .sign(new TextEncoder().encode(SECRET));
};

describe('the grants claim', () => {
  it("every issued token carries exactly its role's grants, and verifies", async () => {
    const issuer = new TokenIssuer(SECRET);
    for (const role of tokenRoles) {
      const room = isPeerRole(role) ? 'main' : '*';
      const { token, claims } = await issuer.issue({ room, role, ttlSeconds: 60 });
      assert.deepEqual(claims.grants, grantsOf[role]);
      assert.deepEqual((await issuer.verify(token)).grants, grantsOf[role]);
    }
  });

  it("refuses a token whose grants are not exactly its role's (escalation), with a clear reason", async () => {
    const issuer = new TokenIssuer(SECRET);
    const cases: [string, Record<string, unknown>, RegExp][] = [
      [
        'widened',
        { room: 'main', role: 'viewer', grants: ['subscribe', 'program'] },
        /not those of a viewer \[subscribe\]/,
      ],
      [
        "another role's",
        { room: 'main', role: 'camera', grants: ['subscribe', 'program', 'admin'] },
        /not those of a camera/,
      ],
      ['narrowed', { room: 'main', role: 'director', grants: ['subscribe'] }, /not those of a director/],
      [
        'duplicated',
        { room: 'main', role: 'viewer', grants: ['subscribe', 'subscribe'] },
        /not those of a viewer/,
      ],
      [
        'unknown grant',
        { room: '*', role: 'node', grants: ['mirror', 'root'] },
        /\[mirror, root\] are not those of a node \[mirror\]/,
      ],
      [
        'recorder with the node grant',
        { room: '*', role: 'recorder', grants: ['mirror'] },
        /not those of a recorder/,
      ],
    ];
    for (const [what, claims, message] of cases) {
      await assert.rejects(issuer.verify(await signed(claims)), (error: unknown) => {
        assert.ok(error instanceof TokenError, what);
        assert.equal(error.reason, 'grants', what);
        assert.match(error.message, message, what);
        return true;
      });
    }
    // The same order-insensitive set is accepted: only the set matters.
    const reordered = await signed({ room: 'main', role: 'camera', grants: ['subscribe', 'publish'] });
    assert.equal((await issuer.verify(reordered)).role, 'camera');
  });

  it('refuses a token without a grants claim', async () => {
    await rejects(new TokenIssuer(SECRET).verify(await signed({ room: 'main', role: 'viewer' })), 'claims');
  });

  it('only service tokens may name every room', async () => {
    const issuer = new TokenIssuer(SECRET);
    await assert.rejects(issuer.issue({ room: '*', role: 'director', ttlSeconds: 60 }), TypeError);
    await rejects(
      issuer.verify(await signed({ room: '*', role: 'viewer', grants: ['subscribe'] })),
      'claims',
    );
    const { token } = await issuer.issue({ room: '*', role: 'recorder', ttlSeconds: 60 });
    assert.equal((await issuer.verify(token)).room, '*');
  });
});

describe('grants', () => {
  it('a recorder reads, records, reports and reads cuts; a node mirrors; neither publishes, subscribes, cuts or admins', () => {
    assert.deepEqual(grantsOf.recorder, ['sources:read', 'record', 'status:report', 'cuts:read']);
    assert.deepEqual(grantsOf.node, ['mirror']);
    for (const role of ['recorder', 'node'] as const) {
      assert.ok(!isPeerRole(role));
      for (const grant of ['publish', 'subscribe', 'program', 'admin'] as const)
        assert.ok(!hasGrant(role, grant));
    }
    assert.ok(!hasGrant('recorder', 'mirror') && !hasGrant('node', 'record'));
    assert.ok(!hasGrant('director', 'record') && !hasGrant('director', 'mirror'));
  });

  it('a viewer only subscribes, a camera publishes but cannot cut, a director cuts and admits', () => {
    assert.deepEqual(grantsOf.viewer, ['subscribe']);
    assert.ok(
      hasGrant('camera', 'publish') && !hasGrant('camera', 'program') && !hasGrant('camera', 'admin'),
    );
    assert.ok(
      hasGrant('director', 'program') && hasGrant('director', 'admin') && !hasGrant('director', 'publish'),
    );
  });

  it('a guest publishes and subscribes once admitted, only subscribes while waiting, never cuts or admins', () => {
    assert.ok(needsAdmission('guest') && !needsAdmission('camera') && !needsAdmission('director'));
    assert.ok(hasGrant('guest', 'publish') && hasGrant('guest', 'subscribe'));
    assert.ok(!hasGrant('guest', 'program') && !hasGrant('guest', 'admin'));
    assert.ok(!hasGrant('guest', 'publish', false) && hasGrant('guest', 'subscribe', false));
    assert.ok(!hasGrant('guest', 'program', false) && !hasGrant('guest', 'admin', false));
    // Roles without a green room are unaffected by the flag.
    assert.ok(hasGrant('camera', 'publish', false));
  });

  it('guest invites round-trip with expiry and use count', async () => {
    const issuer = new TokenIssuer('s'.repeat(40));
    const { token } = await issuer.issue({
      room: 'main',
      role: 'guest',
      ttlSeconds: 600,
      uses: 1,
      label: 'Ana',
    });
    const claims = await issuer.verify(token);
    assert.equal(claims.role, 'guest');
    assert.equal(claims.uses, 1);
    assert.equal(claims.exp - claims.iat, 600);
  });
});
