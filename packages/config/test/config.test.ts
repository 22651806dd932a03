import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  INVITE_USES_CEILING,
  MAX_GUESTS_PER_ROOM,
  MAX_INVITE_USES,
  MAX_MESSAGE_BYTES,
  MAX_SOURCES_PER_ROOM,
} from '@microstudio/protocol';
import { announcedAddress, ConfigError, configTable, loadConfig, settings } from '../src/index.ts';

describe('loadConfig', () => {
  it('gives one-box defaults with an empty environment', () => {
    const config = loadConfig({});
    assert.equal(config.MICROSTUDIO_SFU_PORT, 4000);
    assert.equal(config.MICROSTUDIO_STUDIO_PORT, 3000);
    assert.equal(config.MICROSTUDIO_ROOM, 'main');
    assert.equal(config.MICROSTUDIO_TRANSITION_MS, 500);
    assert.equal(config.MICROSTUDIO_WORKERS, undefined);
  });

  it('coerces numbers from strings and treats empty strings as unset', () => {
    const config = loadConfig({
      MICROSTUDIO_SFU_PORT: '4100',
      MICROSTUDIO_WORKERS: '2',
      MICROSTUDIO_ROOM: '',
    });
    assert.equal(config.MICROSTUDIO_SFU_PORT, 4100);
    assert.equal(config.MICROSTUDIO_WORKERS, 2);
    assert.equal(config.MICROSTUDIO_ROOM, 'main');
  });

  it('refuses an invalid value naming the variable', () => {
    assert.throws(
      () => loadConfig({ MICROSTUDIO_SFU_PORT: '70000' }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.match(error.message, /MICROSTUDIO_SFU_PORT/);
        return true;
      },
    );
    assert.throws(() => loadConfig({ MICROSTUDIO_LOG_LEVEL: 'loud' }), ConfigError);
    assert.throws(() => loadConfig({ MICROSTUDIO_TRANSITION_MS: '20' }), ConfigError);
  });

  it('refuses an unknown MICROSTUDIO_ variable (a typo must not be silently ignored)', () => {
    assert.throws(() => loadConfig({ MICROSTUDIO_SFU_PROT: '1' }), /MICROSTUDIO_SFU_PROT/);
  });

  it('reads the recorder retention: unset keeps forever, 0 and hours accepted, negative refused', () => {
    assert.equal(loadConfig({}).MICROSTUDIO_RECORDER_KEEP_UPLOADED_HOURS, undefined);
    assert.equal(
      loadConfig({ MICROSTUDIO_RECORDER_KEEP_UPLOADED_HOURS: '' }).MICROSTUDIO_RECORDER_KEEP_UPLOADED_HOURS,
      undefined,
    );
    assert.equal(
      loadConfig({ MICROSTUDIO_RECORDER_KEEP_UPLOADED_HOURS: '0' }).MICROSTUDIO_RECORDER_KEEP_UPLOADED_HOURS,
      0,
    );
    assert.equal(
      loadConfig({ MICROSTUDIO_RECORDER_KEEP_UPLOADED_HOURS: '36' }).MICROSTUDIO_RECORDER_KEEP_UPLOADED_HOURS,
      36,
    );
    assert.throws(
      () => loadConfig({ MICROSTUDIO_RECORDER_KEEP_UPLOADED_HOURS: '-1' }),
      /MICROSTUDIO_RECORDER_KEEP_UPLOADED_HOURS/,
    );
    assert.throws(() => loadConfig({ MICROSTUDIO_RECORDER_KEEP_UPLOADED_HOURS: 'forever' }), ConfigError);
  });

  it('reads the protocol limits: the protocol defaults, within the ceilings the wire format allows', () => {
    const defaults = loadConfig({});
    assert.equal(defaults.MICROSTUDIO_MAX_MESSAGE_BYTES, MAX_MESSAGE_BYTES);
    assert.equal(defaults.MICROSTUDIO_MAX_INVITE_USES, MAX_INVITE_USES);
    assert.equal(defaults.MICROSTUDIO_MAX_GUESTS_PER_ROOM, MAX_GUESTS_PER_ROOM);
    assert.equal(defaults.MICROSTUDIO_MAX_SOURCES_PER_ROOM, MAX_SOURCES_PER_ROOM);
    const tuned = loadConfig({
      MICROSTUDIO_MAX_MESSAGE_BYTES: String(1024 * 1024),
      MICROSTUDIO_MAX_INVITE_USES: String(INVITE_USES_CEILING),
      MICROSTUDIO_MAX_GUESTS_PER_ROOM: '8',
      MICROSTUDIO_MAX_SOURCES_PER_ROOM: '4',
    });
    assert.equal(tuned.MICROSTUDIO_MAX_MESSAGE_BYTES, 1024 * 1024);
    assert.equal(tuned.MICROSTUDIO_MAX_INVITE_USES, INVITE_USES_CEILING);
    assert.equal(tuned.MICROSTUDIO_MAX_GUESTS_PER_ROOM, 8);
    assert.equal(tuned.MICROSTUDIO_MAX_SOURCES_PER_ROOM, 4);
    const refused: [string, string][] = [
      ['MICROSTUDIO_MAX_MESSAGE_BYTES', '1024'], // a browser's join would not fit
      ['MICROSTUDIO_MAX_MESSAGE_BYTES', String(64 * 1024 * 1024)],
      ['MICROSTUDIO_MAX_INVITE_USES', String(INVITE_USES_CEILING + 1)], // tokens could not carry it
      ['MICROSTUDIO_MAX_INVITE_USES', '0'],
      ['MICROSTUDIO_MAX_SOURCES_PER_ROOM', String(MAX_SOURCES_PER_ROOM + 1)], // health reports could not
      ['MICROSTUDIO_MAX_GUESTS_PER_ROOM', '-3'],
    ];
    for (const [name, value] of refused) {
      assert.throws(() => loadConfig({ [name]: value }), new RegExp(name), `${name}=${value}`);
    }
  });

  it('ignores variables of other programs', () => {
    assert.doesNotThrow(() => loadConfig({ PATH: '/bin', NODE_ENV: 'production' }));
  });
});

describe('configTable', () => {
  it('lists every setting with a default or (auto)', () => {
    const rows = configTable();
    assert.equal(rows.length, Object.keys(settings).length);
    const port = rows.find((r) => r.name === 'MICROSTUDIO_SFU_PORT');
    assert.equal(port?.default, '4000');
    assert.equal(rows.find((r) => r.name === 'MICROSTUDIO_ANNOUNCED_IP')?.default, '(auto)');
  });

  it('README documents every setting with its default', () => {
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    for (const row of configTable()) {
      const line = readme.split('\n').find((l) => l.startsWith(`| \`${row.name}\``));
      assert.ok(line, `README's configuration table lacks ${row.name}`);
      assert.ok(line.includes(`\`${row.default}\``), `README gives a different default for ${row.name}`);
    }
  });
});

describe('announcedAddress', () => {
  it('prefers the configured address', () => {
    assert.equal(announcedAddress('192.0.2.10'), '192.0.2.10');
  });
  it('falls back to an IPv4 address', () => {
    assert.match(announcedAddress(undefined), /^\d+\.\d+\.\d+\.\d+$/);
  });
});
