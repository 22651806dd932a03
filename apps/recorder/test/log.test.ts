import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from '../src/log.ts';

test('json log lines: one object per line with the envelope, fields that cannot forge it, levels filtered', () => {
  const lines: [string, string][] = [];
  const log = createLogger('info', 'recorder', 'json', (line, level) => lines.push([line, level]));
  log.child('upload').warn('upload failed;\nwill retry', { key: 'show/a.webm', msg: 'forged', pending: 3 });
  createLogger('warn', 'recorder', 'json', (line, level) => lines.push([line, level])).info('dropped');
  assert.equal(lines.length, 1);
  const [line, level] = lines[0] ?? ['', ''];
  assert.equal(level, 'warn');
  assert.ok(!line.includes('\n'), 'a message cannot split the line');
  const entry = JSON.parse(line) as Record<string, unknown>;
  assert.equal(entry.level, 'warn');
  assert.equal(entry.scope, 'recorder:upload');
  assert.equal(entry.msg, 'upload failed;\nwill retry');
  assert.equal(entry.key, 'show/a.webm');
  assert.equal(entry.pending, 3);
  assert.equal(entry.field_msg, 'forged');
  assert.ok(!Number.isNaN(Date.parse(String(entry.time))));
});

test('text log lines keep the key=value form', () => {
  const lines: string[] = [];
  createLogger('info', 'recorder', 'text', (line) => lines.push(line)).info('ready', { dir: '/a b' });
  assert.match(lines[0] ?? '', / info {2}\[recorder\] ready dir="\/a b"$/);
});
