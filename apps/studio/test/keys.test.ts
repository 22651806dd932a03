import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type KeyTarget, keyAction } from '../controllers/controlController.ts';

const on = (tagName: string, extra: Partial<KeyTarget> = {}): KeyTarget => ({
  tagName,
  isTile: false,
  modifier: false,
  ...extra,
});

describe('control room shortcuts', () => {
  it('keeps 1–9, Space/Enter, A and Escape as they were', () => {
    assert.deepEqual(keyAction('3', on('BODY')), { kind: 'preview', index: 2 });
    assert.deepEqual(keyAction(' ', on('BODY')), { kind: 'cut' });
    assert.equal(keyAction('Enter', on('BUTTON')), null);
    assert.deepEqual(keyAction('Enter', on('BUTTON', { isTile: true })), { kind: 'cut' });
    assert.deepEqual(keyAction('a', on('BODY')), { kind: 'auto' });
    assert.deepEqual(keyAction('Escape', on('INPUT')), { kind: 'release' });
  });

  it('R toggles Record all, except while typing or with a modifier (Ctrl-R reloads)', () => {
    assert.deepEqual(keyAction('r', on('BODY')), { kind: 'recordAll' });
    assert.deepEqual(keyAction('R', on('BUTTON')), { kind: 'recordAll' });
    assert.equal(keyAction('r', on('INPUT')), null);
    assert.equal(keyAction('r', on('BODY', { modifier: true })), null);
  });
});
