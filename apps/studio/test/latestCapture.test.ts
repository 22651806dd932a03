import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LatestCapture } from '../lib/latestCapture.ts';

/** A promise settled from outside, to let acquisitions finish in any order. */
function deferred<T>() {
  let resolve: (value: T) => void = () => undefined;
  let reject: (error: unknown) => void = () => undefined;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

function recorder() {
  const events: string[] = [];
  const errors: unknown[] = [];
  const capture = new LatestCapture<string>(
    (name) => events.push(`stop ${name}`),
    (error) => errors.push(error),
  );
  const adopt = (name: string) => {
    events.push(`adopt ${name}`);
  };
  return { events, errors, capture, adopt };
}

describe('latest capture', () => {
  it('adopts a capture, then stops the one it replaces', async () => {
    const { events, capture, adopt } = recorder();
    assert.equal(await capture.replace(async () => 'a', adopt), true);
    assert.equal(await capture.replace(async () => 'b', adopt), true);
    assert.equal(capture.current, 'b');
    assert.deepEqual(events, ['adopt a', 'adopt b', 'stop a']);
  });

  it('keeps the old capture running until the new one is adopted', async () => {
    const { events, capture, adopt } = recorder();
    await capture.replace(async () => 'a', adopt);
    const publish = deferred<void>();
    const replaced = capture.replace(
      async () => 'b',
      async (name) => {
        events.push(`adopt ${name}`);
        await publish.promise;
        events.push(`published ${name}`);
      },
    );
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(events, ['adopt a', 'adopt b']);
    publish.resolve();
    await replaced;
    assert.deepEqual(events, ['adopt a', 'adopt b', 'published b', 'stop a']);
  });

  it('keeps the newest call when an older one settles later, and stops the older one', async () => {
    const { events, capture, adopt } = recorder();
    const slow = deferred<string>();
    const older = capture.replace(() => slow.promise, adopt);
    const newer = capture.replace(async () => 'new', adopt);
    assert.equal(await newer, true);
    slow.resolve('old');
    assert.equal(await older, false);
    assert.equal(capture.current, 'new');
    assert.deepEqual(events, ['adopt new', 'stop old']);
  });

  it('reports a failure of the newest call only', async () => {
    const { errors, capture, adopt } = recorder();
    const slow = deferred<string>();
    const older = capture.replace(() => slow.promise, adopt);
    const newer = capture.replace(async () => {
      throw new Error('denied');
    }, adopt);
    assert.equal(await newer, false);
    slow.reject(new Error('overtaken'));
    assert.equal(await older, false);
    assert.deepEqual(
      errors.map((e) => (e instanceof Error ? e.message : e)),
      ['denied'],
    );
    assert.equal(capture.current, undefined);
  });

  it('stops what it holds on close, and what settles after', async () => {
    const { events, capture, adopt } = recorder();
    await capture.replace(async () => 'a', adopt);
    const slow = deferred<string>();
    const pending = capture.replace(() => slow.promise, adopt);
    capture.close();
    assert.equal(capture.current, undefined);
    slow.resolve('late');
    assert.equal(await pending, false);
    assert.equal(await capture.replace(async () => 'after', adopt), false);
    assert.deepEqual(events, ['adopt a', 'stop a', 'stop late', 'stop after']);
  });

  it('holds "nothing" (null) as a capture of its own', async () => {
    const events: string[] = [];
    const capture = new LatestCapture<string | null>(
      (name) => events.push(`stop ${name ?? 'nothing'}`),
      () => undefined,
    );
    await capture.replace(
      async () => 'mic',
      () => undefined,
    );
    await capture.replace(
      async () => null,
      () => undefined,
    );
    assert.equal(capture.current, null);
    await capture.replace(
      async () => 'mic 2',
      () => undefined,
    );
    assert.deepEqual(events, ['stop mic', 'stop nothing']);
  });
});
