import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ErrorCode, type ProgramState, tallyOf } from '@microstudio/protocol';
import { RefusedError } from '../src/errors.ts';
import { type BusClock, ProgramBus } from '../src/program/ProgramBus.ts';

/** A manual clock: timers fire only when the test advances time. */
class FakeClock implements BusClock {
  time = 1_000_000;
  timers: { at: number; fn: () => void; id: number }[] = [];
  #next = 0;
  now = (): number => this.time;
  setTimer = (fn: () => void, ms: number): unknown => {
    const id = this.#next++;
    this.timers.push({ at: this.time + ms, fn, id });
    return id;
  };
  clearTimer = (handle: unknown): void => {
    this.timers = this.timers.filter((t) => t.id !== handle);
  };
  advance(ms: number): void {
    this.time += ms;
    for (const t of this.timers.filter((x) => x.at <= this.time)) {
      this.clearTimer(t.id);
      t.fn();
    }
  }
}

function makeBus(sources = ['a', 'b', 'c']) {
  const known = new Set(sources);
  const clock = new FakeClock();
  const bus = new ProgramBus({ isSource: (id) => known.has(id), defaultTransitionMs: 500, clock });
  const changes: ProgramState[] = [];
  bus.on('change', (s) => changes.push(s));
  return { bus, clock, changes, known };
}

function refusal(fn: () => unknown): RefusedError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof RefusedError, `expected a RefusedError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a refusal');
}

describe('ProgramBus', () => {
  test('starts empty at revision 0', () => {
    const { bus } = makeBus();
    assert.deepEqual(bus.state, {
      programSourceId: null,
      previewSourceId: null,
      transition: null,
      revision: 0,
    });
  });

  test('preview() of a known source sets preview and increases the revision', () => {
    const { bus, changes } = makeBus();
    bus.preview('a');
    assert.equal(bus.state.previewSourceId, 'a');
    assert.equal(bus.state.revision, 1);
    assert.deepEqual(changes, [bus.state]);
  });

  test('preview() of an unknown source is refused with NOT_FOUND and changes nothing', () => {
    const { bus, changes } = makeBus();
    const before = bus.state;
    assert.equal(refusal(() => bus.preview('nope')).code, ErrorCode.NotFound);
    assert.deepEqual(bus.state, before);
    assert.equal(changes.length, 0);
  });

  test('cut() swaps preview and program', () => {
    const { bus } = makeBus();
    bus.preview('a');
    bus.cut();
    assert.equal(bus.state.programSourceId, 'a');
    assert.equal(bus.state.previewSourceId, null);
    bus.preview('b');
    bus.cut();
    assert.deepEqual(
      { program: bus.state.programSourceId, preview: bus.state.previewSourceId },
      { program: 'b', preview: 'a' },
    );
    assert.equal(tallyOf(bus.state, 'b'), 'program');
    assert.equal(tallyOf(bus.state, 'a'), 'preview');
    assert.equal(tallyOf(bus.state, 'c'), 'off');
  });

  test('cut() with nothing on preview is refused and changes nothing', () => {
    const { bus, changes } = makeBus();
    assert.equal(refusal(() => bus.cut()).code, ErrorCode.BadRequest);
    assert.equal(refusal(() => bus.auto()).code, ErrorCode.BadRequest);
    assert.equal(bus.state.revision, 0);
    assert.equal(changes.length, 0);
  });

  test('auto() sets a fade and commits the swap after its duration', () => {
    const { bus, clock, changes } = makeBus();
    bus.preview('a');
    bus.cut();
    bus.preview('b');
    const started = bus.auto(800);
    assert.deepEqual(started.transition, {
      kind: 'fade',
      fromSourceId: 'a',
      toSourceId: 'b',
      durationMs: 800,
      startedAt: clock.time,
    });
    assert.equal(started.programSourceId, 'a');
    assert.equal(tallyOf(started, 'b'), 'program', 'the incoming source is live during the fade');
    clock.advance(799);
    assert.notEqual(bus.state.transition, null);
    clock.advance(1);
    assert.equal(bus.state.transition, null);
    assert.equal(bus.state.programSourceId, 'b');
    assert.equal(bus.state.previewSourceId, 'a');
    const revisions = changes.map((c) => c.revision);
    assert.deepEqual(
      revisions,
      revisions.map((_, i) => i + 1),
      'every change is broadcast with a strictly increasing revision',
    );
  });

  test('auto() without a duration uses the default', () => {
    const { bus } = makeBus();
    bus.preview('a');
    assert.equal(bus.auto().transition?.durationMs, 500);
  });

  test('cut() during a fade takes it home at once (target on program, no swap back)', () => {
    const { bus, clock } = makeBus();
    bus.preview('a');
    bus.cut();
    bus.preview('b');
    bus.auto(1000);
    clock.advance(300);
    const after = bus.cut();
    assert.deepEqual(
      { program: after.programSourceId, preview: after.previewSourceId, transition: after.transition },
      { program: 'b', preview: 'a', transition: null },
    );
    clock.advance(2000);
    assert.equal(bus.state.revision, after.revision, 'the cancelled fade timer does not fire');
  });

  test('auto() during a fade takes it home at once and starts no new fade', () => {
    const { bus, clock } = makeBus();
    bus.preview('a');
    bus.cut();
    bus.preview('b');
    bus.auto(1000);
    clock.advance(100);
    const second = bus.auto(400);
    assert.deepEqual(
      { program: second.programSourceId, preview: second.previewSourceId, transition: second.transition },
      { program: 'b', preview: 'a', transition: null },
    );
    clock.advance(2000);
    assert.equal(bus.state.revision, second.revision, 'the cancelled fade timer does not fire');
  });

  test('a fade from an empty program commits on cut() without swapping back', () => {
    const { bus } = makeBus();
    bus.preview('a');
    bus.auto(1000);
    const after = bus.cut();
    assert.equal(after.programSourceId, 'a');
    assert.equal(after.previewSourceId, null);
  });

  test('ids stay on the bus when their source leaves, and can no longer be previewed', () => {
    const { bus, known } = makeBus();
    bus.preview('a');
    bus.cut();
    known.delete('a');
    assert.equal(bus.state.programSourceId, 'a');
    assert.equal(refusal(() => bus.preview('a')).code, ErrorCode.NotFound);
  });

  test('close() stops a running fade and is safe to call twice', () => {
    const { bus, clock, changes } = makeBus();
    bus.preview('a');
    bus.auto(500);
    const count = changes.length;
    bus.close();
    bus.close();
    clock.advance(1000);
    assert.equal(changes.length, count);
    assert.equal(bus.closed, true);
  });
});

describe('ProgramBus.forget (a guest removed from the show)', () => {
  test('takes the source off program and preview, once; other sources are untouched', () => {
    const { bus, changes } = makeBus();
    bus.preview('a');
    bus.cut();
    bus.preview('b');
    const before = changes.length;
    assert.equal(bus.forget('c'), false);
    assert.equal(changes.length, before);
    assert.equal(bus.forget('a'), true);
    assert.equal(bus.state.programSourceId, null);
    assert.equal(bus.state.previewSourceId, 'b');
    assert.equal(changes.length, before + 1);
    assert.equal(bus.forget('a'), false);
  });

  test('a fade involving the source is committed first, and its timer stopped', () => {
    const { bus, clock } = makeBus();
    bus.preview('a');
    bus.cut();
    bus.preview('b');
    bus.auto(500);
    assert.equal(bus.forget('b'), true);
    assert.deepEqual(
      { program: bus.state.programSourceId, preview: bus.state.previewSourceId, fade: bus.state.transition },
      { program: null, preview: 'a', fade: null },
    );
    assert.equal(clock.timers.length, 0);
  });
});
