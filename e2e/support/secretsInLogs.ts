import { readFileSync } from 'node:fs';
import { SECRETS, SERVER_LOG } from '../playwright.config.ts';

/**
 * Global teardown (the studio is still running): no secret value appears in what the media node,
 * the web app or the recorder logged during the whole run. The launcher's own lines are the one
 * exception, by design: it prints the director link, which carries the admin secret, and nothing
 * else secret.
 */
export default function secretsInLogs(): void {
  const lines = readFileSync(SERVER_LOG, 'utf8').split('\n');
  for (const part of ['[sfu]', '[studio]']) {
    if (!lines.some((line) => line.startsWith(part)))
      throw new Error(`${SERVER_LOG} has no ${part} line: the server log was not captured`);
  }
  const leaks: string[] = [];
  lines.forEach((line, index) => {
    for (const [name, value] of Object.entries(SECRETS)) {
      if (!line.includes(value)) continue;
      const directorLink =
        line.includes('[microstudio]') &&
        line.includes('director link') &&
        name === 'MICROSTUDIO_ADMIN_SECRET';
      if (!directorLink) leaks.push(`line ${index + 1} (${line.slice(0, line.indexOf(value))}…): ${name}`);
    }
  });
  if (leaks.length > 0) throw new Error(`secret values in the studio's log output:\n${leaks.join('\n')}`);
}
