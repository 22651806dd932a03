#!/usr/bin/env node
// Mints the recorder service's credential (MICROSTUDIO_RECORDER_TOKEN): a `recorder` token signed
// with MICROSTUDIO_TOKEN_SECRET, for MICROSTUDIO_ROOM (or `--room '*'` for every room), valid
// `--days` (default 7). The recorder gets this token, never the token secret itself, so a
// recorder's box holds nothing that could mint a director's or a camera's token.
//
//   MICROSTUDIO_TOKEN_SECRET=… node scripts/recorder-token.mjs [--room main] [--days 7]
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { tsImport } from 'tsx/esm/api';

/** How long `npm start`'s recorder token lasts: longer than any one run of the studio. */
export const RECORDER_TOKEN_DAYS = 7;

/** A `recorder` token for `room` ('*' = every room). */
export async function mintRecorderToken(secret, room, days = RECORDER_TOKEN_DAYS) {
  const { TokenIssuer } = await tsImport('@microstudio/auth', import.meta.url);
  const issuer = new TokenIssuer(secret);
  const ttlSeconds = Math.round(days * 86_400);
  return (await issuer.issue({ room, role: 'recorder', ttlSeconds, label: 'recorder' })).token;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: { room: { type: 'string' }, days: { type: 'string' } },
  });
  const secret = process.env.MICROSTUDIO_TOKEN_SECRET;
  if (!secret) {
    console.error("recorder-token: set MICROSTUDIO_TOKEN_SECRET (the media node's)");
    process.exit(1);
  }
  const days = Number(values.days ?? RECORDER_TOKEN_DAYS);
  if (!(days > 0 && days <= 366)) {
    console.error('recorder-token: --days must be a number of days, at most 366');
    process.exit(1);
  }
  console.log(await mintRecorderToken(secret, values.room ?? process.env.MICROSTUDIO_ROOM ?? 'main', days));
}
