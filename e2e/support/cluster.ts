/**
 * A deployed studio in miniature for browser tests and benchmarks: a site and edges, each its
 * own media-node process in its own network namespace, a real redis-server as the fabric, a
 * WAN (20 ms RTT, 1 % loss) between the site and each edge, and the studio web app in front —
 * the browser (root namespace) reaches every node directly, as viewers reach public edges.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
// @ts-expect-error: a plain .mjs module without types (paths of the provisioned runtimes).
import { mediaEnv, readRuntime, repoRoot } from '../../scripts/runtime.mjs';
import { type NodeProcess, spawnNode } from '../../sfu/test/support/nodeProcess.ts';
import { startRedisServer, type TestRedis } from '../../sfu/test/support/redisServer.ts';
import { createWan, type Wan, wanSupport } from '../../sfu/test/support/wan.ts';

export const CLUSTER_ADMIN_SECRET = 'e2e-cluster-admin-secret-not-for-production';
const TOKEN_SECRET = 'e2e-cluster-token-secret-0123456789abcdef';
const NODE_PORT = 4000;

export interface ClusterOptions {
  /** Studio web app port in the root namespace (its HTTPS port is this + 443). */
  studioPort: number;
  edges: { name: string; region: string }[];
  delayMs?: number;
  lossPercent?: number;
  /** false: site and edges talk at bridge speed (no WAN delay or loss). Default true. */
  shaped?: boolean;
}

export interface Cluster {
  wan: Wan;
  baseURL: string;
  ip(host: string): string;
  /** Kills a node's process at once (SIGKILL), as a crash would. */
  kill(host: string): Promise<void>;
  cut(edge: string): Promise<void>;
  restore(edge: string): Promise<void>;
  output(host: string): string;
  close(): Promise<void>;
}

export async function clusterSupport(): Promise<{ ok: true } | { ok: false; reason: string }> {
  const support = await wanSupport();
  return support.ok ? { ok: true } : { ok: false, reason: support.reason };
}

export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const runtime = readRuntime() as { node: string; mediasoupWorker: string };
  const hosts = ['site', ...options.edges.map((e) => e.name)];
  const wan = await createWan({
    hosts,
    wanPairs: options.shaped === false ? [] : options.edges.map((e): [string, string] => ['site', e.name]),
    delayMs: options.delayMs ?? 20,
    lossPercent: options.lossPercent ?? 1,
  });
  const ip = (host: string) => wan.hosts[host]?.ip ?? '';
  let redis: TestRedis | undefined;
  const nodes = new Map<string, NodeProcess>();
  let studio: ChildProcess | undefined;
  const baseURL = `http://127.0.0.1:${options.studioPort}`;
  const close = async () => {
    studio?.kill('SIGTERM');
    await Promise.all([...nodes.values()].map((n) => n.kill('SIGKILL')));
    await redis?.stop();
    await wan.close();
  };
  try {
    redis = await startRedisServer({ alsoBind: wan.gatewayIp });
    const origins = [`http://127.0.0.1:${options.studioPort}`, `http://localhost:${options.studioPort}`];
    const common: Record<string, string> = {
      ...(mediaEnv(runtime, {}) as Record<string, string>),
      MICROSTUDIO_TOKEN_SECRET: TOKEN_SECRET,
      MICROSTUDIO_ADMIN_SECRET: CLUSTER_ADMIN_SECRET,
      MICROSTUDIO_FABRIC_URL: `redis://${wan.gatewayIp}:${redis.port}`,
      MICROSTUDIO_HEARTBEAT_MS: '500',
      MICROSTUDIO_SFU_HOST: '0.0.0.0',
      MICROSTUDIO_SFU_PORT: String(NODE_PORT),
      MICROSTUDIO_WORKERS: '1',
      MICROSTUDIO_ALLOWED_ORIGINS: origins.join(','),
      MICROSTUDIO_LOG_FORMAT: 'json',
    };
    const roles: [string, 'site' | 'edge', string][] = [
      ['site', 'site', 'venue'],
      ...options.edges.map((e): [string, 'site' | 'edge', string] => [e.name, 'edge', e.region]),
    ];
    for (const [host, role, region] of roles) {
      const env = {
        ...common,
        MICROSTUDIO_NODE_ROLE: role,
        MICROSTUDIO_NODE_ID: host,
        MICROSTUDIO_REGION: region,
        MICROSTUDIO_ANNOUNCED_IP: ip(host),
      };
      nodes.set(host, spawnNode(env, { wan, host }, runtime.node));
    }
    await Promise.all([...nodes.values()].map((n) => n.ready));
    studio = spawn(process.execPath, ['server.mjs'], {
      cwd: join(repoRoot as string, 'apps', 'studio'),
      env: {
        ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('MICROSTUDIO_'))),
        MICROSTUDIO_SFU_URL: `http://${ip('site')}:${NODE_PORT}`,
        MICROSTUDIO_STUDIO_HOST: '127.0.0.1',
        MICROSTUDIO_STUDIO_PORT: String(options.studioPort),
        MICROSTUDIO_STUDIO_HTTPS_PORT: String(options.studioPort + 443),
        MICROSTUDIO_ANNOUNCED_IP: '127.0.0.1',
        MICROSTUDIO_DATA_DIR: mkdtempSync(join(tmpdir(), 'microstudio-cluster-')),
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    for (let i = 0; ; i++) {
      if (studio.exitCode !== null) throw new Error(`the studio exited (${studio.exitCode})`);
      try {
        if ((await fetch(`${baseURL}/api/studio-info`)).ok) break;
      } catch {
        // not up yet
      }
      if (i > 300) throw new Error('the studio did not answer within 60 s');
      await sleep(200);
    }
    // Both edges registered and linked to the site before anyone watches.
    for (let i = 0; ; i++) {
      const answer = (await (await fetch(`http://${ip('site')}:${NODE_PORT}/fabric/nodes`)).json()) as {
        nodes?: { role: string; uplink: string }[];
      };
      const edges = (answer.nodes ?? []).filter((n) => n.role === 'edge' && n.uplink === 'up');
      if (edges.length === options.edges.length) break;
      if (i > 100) throw new Error('the edges did not register in the fabric within 20 s');
      await sleep(200);
    }
  } catch (error) {
    await close();
    throw error;
  }
  return {
    wan,
    baseURL,
    ip,
    async kill(host) {
      await nodes.get(host)?.kill('SIGKILL');
    },
    cut: (edge) => wan.cut('site', edge),
    restore: (edge) => wan.restore('site', edge),
    output: (host) => nodes.get(host)?.output() ?? '',
    close,
  };
}
