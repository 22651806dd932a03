import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { RequestError } from '@microstudio/client';
import { settings } from '@microstudio/config';
import { errorCodes } from '@microstudio/protocol';
// The node's own refusals, so the texts are checked against the messages it really sends.
import { LimitReachedError, RefusedError } from '../../../sfu/src/errors.ts';
import { errorText, limitTexts } from '../lib/errorText.ts';

const sfuSrc = new URL('../../../sfu/src/', import.meta.url).pathname;

/** Every `new LimitReachedError('<limit>', …)` in the node's source: a new limit cannot be missed. */
function nodeLimitNames(): string[] {
  const names = new Set<string>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts')) {
        for (const m of readFileSync(path, 'utf8').matchAll(/new LimitReachedError\(\s*'([^']+)'/g))
          names.add(m[1] as string);
      }
    }
  };
  walk(sfuSrc);
  return [...names].sort();
}

/** What the page gets when the node refuses: the client's RequestError of the node's answer. */
const asReceived = (refusal: RefusedError, request = 'room:join') =>
  new RequestError(request, { code: refusal.code, message: refusal.message });

describe('errorText', () => {
  it('has a sentence for every ErrorCode, never the bare code or the raw "request failed: CODE:" line', () => {
    const seen = new Set<string>();
    for (const code of errorCodes) {
      const error = new RequestError('invite:create', { code, message: 'something specific' });
      const text = errorText(error);
      assert.doesNotMatch(text, /failed: [A-Z_]+:/, code);
      assert.ok(text.length > 40 && /[.!]$/.test(text), `${code}: "${text}" is a sentence`);
      assert.ok(!seen.has(text), `${code} has a text of its own`);
      seen.add(text);
    }
  });

  it('names the number and the setting of every limit the node refuses with', () => {
    const names = nodeLimitNames();
    assert.ok(names.includes('peers per room') && names.includes('invite uses'), names.join(', '));
    for (const name of names) {
      const limit = limitTexts[name];
      assert.ok(limit, `no text for the node's "${name}" limit`);
      assert.ok(Object.hasOwn(settings, limit.setting), `${limit.setting} is a configuration variable`);
      const text = errorText(asReceived(new LimitReachedError(name, 17)));
      assert.match(text, /\b17\b/, `${name}: ${text}`);
      assert.ok(text.includes(`(${limit.setting})`), `${name}: ${text}`);
    }
    assert.equal(
      errorText(asReceived(new LimitReachedError('peers per room', 64))),
      'This room is full: 64 people at most (MICROSTUDIO_MAX_PEERS_PER_ROOM). Try again when someone has left, or ask the operator to raise the limit.',
    );
  });

  it('names the message size and rate limits the node reports', () => {
    const tooLarge = errorText(
      asReceived(
        new RefusedError('MESSAGE_TOO_LARGE', 'payload of 300000 bytes exceeds the 262144-byte limit'),
      ),
    );
    assert.match(tooLarge, /262144 bytes at most per message \(MICROSTUDIO_MAX_MESSAGE_BYTES\)/);
    const rate = errorText(
      asReceived(
        new RefusedError(
          'RATE_LIMITED',
          'more than 50 messages per second (MICROSTUDIO_MAX_MESSAGES_PER_SECOND)',
        ),
      ),
    );
    assert.match(rate, /50 per second at most \(MICROSTUDIO_MAX_MESSAGES_PER_SECOND\)/);
  });

  it("keeps the node's reason where it is the news (why an invite does not let one in)", () => {
    const text = errorText(asReceived(new RefusedError('UNAUTHORIZED', 'this invite has been used up')));
    assert.equal(
      text,
      'This link does not let you in: this invite has been used up. Ask the director for a new link (the director: open the director link again).',
    );
  });

  it('passes errors written for people through, and an unknown limit as the node said it', () => {
    assert.equal(errorText(new Error('This link has no camera invite.')), 'This link has no camera invite.');
    assert.equal(errorText('plain'), 'plain');
    const unknown = errorText(asReceived(new LimitReachedError('lights per stage', 3)));
    assert.match(unknown, /LIMIT_REACHED: lights per stage limit reached \(3\)/);
  });
});
