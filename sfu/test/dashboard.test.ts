import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import type { MediaNode } from '../src/node.ts';
import { startTestNode } from './helpers.ts';

let node: MediaNode;
before(async () => {
  node = await startTestNode();
});
after(async () => {
  await node.close();
});

/** Every metric a dashboard panel queries must be one the node exports: no panel stays empty. */
test('the Grafana dashboard queries only metrics the media node exports', async () => {
  const exported = new Set(
    [...(await (await fetch(`${node.url}/metrics`)).text()).matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]),
  );
  const dashboard = JSON.parse(
    readFileSync(new URL('../../infra/grafana/microstudio.json', import.meta.url), 'utf8'),
  ) as {
    panels: { title: string; targets: { expr: string }[] }[];
  };
  assert.ok(dashboard.panels.length >= 6);
  for (const panel of dashboard.panels) {
    for (const { expr } of panel.targets) {
      const names = [...expr.matchAll(/\b((?:microstudio|process|nodejs)_[a-z_]+)\b/g)].map(
        (m) => m[1] as string,
      );
      assert.ok(names.length > 0, `${panel.title}: no metric in "${expr}"`);
      for (const name of names) {
        // A histogram's series are <name>_bucket/_sum/_count under one TYPE line.
        const family = name.replace(/_(bucket|sum|count)$/, '');
        assert.ok(exported.has(family), `${panel.title}: the node exports no ${family}`);
      }
    }
  }
});
