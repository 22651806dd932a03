import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger, type LogLevel } from '../src/log.ts';

function capture(format: 'text' | 'json', level: LogLevel = 'info') {
  const lines: { line: string; level: LogLevel }[] = [];
  const logger = createLogger(level, (line, lvl) => lines.push({ line, level: lvl }), 'sfu', format);
  return { logger, lines };
}

test('json format: one JSON object per line with time, level, scope, msg and the fields', () => {
  const { logger, lines } = capture('json');
  logger
    .child('pool')
    .warn('worker died', { slot: 1, pid: 4242, error: 'killed', ok: false, none: null, gone: undefined });
  assert.equal(lines.length, 1);
  const entry = JSON.parse(lines[0]?.line ?? '');
  assert.deepEqual(Object.keys(entry).slice(0, 4), ['time', 'level', 'scope', 'msg']);
  assert.ok(!Number.isNaN(Date.parse(entry.time)), 'time is ISO 8601');
  assert.equal(entry.level, 'warn');
  assert.equal(entry.scope, 'sfu:pool');
  assert.equal(entry.msg, 'worker died');
  assert.equal(entry.slot, 1);
  assert.equal(entry.pid, 4242);
  assert.equal(entry.error, 'killed');
  assert.equal(entry.ok, false);
  assert.equal(entry.none, null);
  assert.ok(!('gone' in entry), 'undefined fields are left out');
});

test('json format: a field cannot forge the envelope, newlines stay inside the line, levels filter', () => {
  const { logger, lines } = capture('json', 'info');
  logger.debug('hidden');
  logger.info('two\nlines', { level: 'error', msg: 'forged', ratio: Number.NaN });
  assert.equal(lines.length, 1);
  const line = lines[0]?.line ?? '';
  assert.ok(!line.includes('\n'));
  const entry = JSON.parse(line);
  assert.equal(entry.level, 'info');
  assert.equal(entry.msg, 'two\nlines');
  assert.equal(entry.field_level, 'error');
  assert.equal(entry.field_msg, 'forged');
  assert.equal(entry.ratio, 'NaN');
});

test('text format (the default) keeps the human line: time level [scope] message key=value', () => {
  const lines: string[] = [];
  const logger = createLogger('info', (line) => lines.push(line));
  logger.child('rooms').info('peer joined', { room: 'main', name: 'Cam 1' });
  assert.match(
    lines[0] ?? '',
    /^\d{4}-\d\d-\d\dT\S+Z info {2}\[sfu:rooms\] peer joined room=main name="Cam 1"$/,
  );
});

test('once() logs a key only the first time, in either format', () => {
  const { logger, lines } = capture('json');
  logger.once('error', 'k', 'first');
  logger.once('error', 'k', 'second');
  assert.equal(lines.length, 1);
  assert.equal(JSON.parse(lines[0]?.line ?? '').msg, 'first');
});
