/**
 * The deployment files agree with packages/config: infra/compose/compose.yaml (+ .env.example)
 * and every infra/k8s/*.yaml.
 *
 * Names and values. Every MICROSTUDIO_* variable they set (compose `environment`, k8s container
 * `env`, ConfigMap `data`, Secret keys, .env.example keys) is a setting in `settings`. Every
 * literal value passes that setting's schema (through loadConfig with only that variable set).
 * Not literal, so not checked: compose `${…}` interpolation, k8s `$(…)` expansion, `valueFrom`
 * (secretKeyRef, fieldRef, …), Secret and .env.example values (templates).
 *
 * Ports. Which program a service runs is read from its image and command: `run-sfu.mjs` a media
 * node, `server.mjs` the studio, `apps/recorder` the recorder, a `redis` image Redis, a `coturn`
 * image coturn. Each program's ports follow from its configuration (literal values, defaults
 * where unset):
 *   media node  MICROSTUDIO_SFU_PORT/tcp; MICROSTUDIO_RTC_PORT … +MICROSTUDIO_WORKERS-1, udp and
 *               tcp; MICROSTUDIO_PIPE_PORT_MIN … MAX/udp (MICROSTUDIO_WORKERS must be set: its
 *               default is the CPU count, unknown here)
 *   studio      MICROSTUDIO_STUDIO_PORT/tcp, MICROSTUDIO_STUDIO_HTTPS_PORT/tcp
 *   recorder    none (its RTP ports are on 127.0.0.1, in the site's network)
 *   redis       6379/tcp (or its --port)
 *   coturn      --listening-port (3478) udp+tcp; --tls-listening-port (5349) unless --no-tls;
 *               --min-port … --max-port (49152 … 65535)/udp
 * Every port a file publishes or declares (compose `ports`; k8s containerPort/hostPort; a
 * Service's port, which must equal the container port it targets) is one of those, on the same
 * number on the host (mediasoup and coturn announce the port they bound). Compose runs every media
 * node on the host network (a NAT between nodes breaks site↔edge pipes), so the ports of all
 * host-network services and everything published share one host and must not overlap.
 * Failures name the file, the service (or k8s object/container) and the variable or port.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { type Config, ConfigError, loadConfig, type SettingName, settings } from '../src/index.ts';

const infraDir = new URL('../../../infra/', import.meta.url);
const COMPOSE_FILE = 'infra/compose/compose.yaml';
const ENV_EXAMPLE = 'infra/compose/.env.example';
/** Applied by hand after filling it in; never by kustomization.yaml. */
const SECRET_TEMPLATE = 'secret.example.yaml';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Obj = { [key: string]: Json };

function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
function obj(value: unknown): Obj {
  return isObj(value) ? value : {};
}
function list(value: unknown): Json[] {
  return Array.isArray(value) ? value : [];
}
function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** Every YAML document of a file under infra/, as plain data (merge keys `<<` resolved). */
function readYaml(relative: string): Json[] {
  const text = readFileSync(new URL(relative, infraDir), 'utf8');
  return parseAllDocuments(text, { merge: true }).map((doc, i) => {
    assert.equal(doc.errors.length, 0, `infra/${relative} document ${i + 1}: ${doc.errors.join('; ')}`);
    return doc.toJS() as Json;
  });
}

// --- settings -----------------------------------------------------------------------------------

const isSetting = (name: string): name is SettingName => Object.hasOwn(settings, name);

/** True for a value the file does not spell out: compose `${VAR}`, k8s `$(VAR)`. */
const interpolated = (value: string): boolean => value.includes('${') || value.includes('$(');

/** An environment entry: a literal value, or one supplied at deploy time (secret, field, ${…}). */
type EnvValue = { literal: true; value: string } | { literal: false; from: string };

function checkName(where: string, name: string): void {
  if (!name.startsWith('MICROSTUDIO_')) return;
  assert.ok(isSetting(name), `${where}: ${name} is not a setting in packages/config/src/index.ts`);
}

function checkValue(where: string, name: string, env: EnvValue): void {
  checkName(where, name);
  if (!name.startsWith('MICROSTUDIO_') || !env.literal) return;
  try {
    loadConfig({ [name]: env.value });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    assert.fail(
      `${where}: ${name}=${JSON.stringify(env.value)} is refused by packages/config: ${error.message}`,
    );
  }
}

/**
 * The configuration a service runs with: its literal values of known settings, defaults for the
 * rest (unknown names fail the names-and-values test, with their own message).
 */
function configOf(where: string, env: Map<string, EnvValue>): Config {
  const literal: Record<string, string> = {};
  for (const [name, value] of env) if (isSetting(name) && value.literal) literal[name] = value.value;
  try {
    return loadConfig(literal);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    assert.fail(`${where}: ${error.message}`);
  }
}

// --- programs and their ports -------------------------------------------------------------------

type Program = 'media' | 'studio' | 'recorder' | 'redis' | 'coturn';
type Protocol = 'tcp' | 'udp';
const key = (port: number, protocol: Protocol): string => `${port}/${protocol}`;

function programOf(image: string, words: string[]): Program | undefined {
  const line = words.join(' ');
  if (/run-sfu\.mjs/.test(line)) return 'media';
  if (/server\.mjs/.test(line)) return 'studio';
  if (/apps\/recorder|@microstudio\/recorder/.test(line)) return 'recorder';
  if (/(^|\/)redis[:@]/.test(image)) return 'redis';
  if (/coturn/.test(image)) return 'coturn';
  return undefined;
}

/** Settings that decide ports: they must be literal where ports are checked. */
const PORT_SETTINGS: Record<Program, SettingName[]> = {
  media: [
    'MICROSTUDIO_SFU_PORT',
    'MICROSTUDIO_RTC_PORT',
    'MICROSTUDIO_WORKERS',
    'MICROSTUDIO_PIPE_PORT_MIN',
    'MICROSTUDIO_PIPE_PORT_MAX',
  ],
  studio: ['MICROSTUDIO_STUDIO_PORT', 'MICROSTUDIO_STUDIO_HTTPS_PORT'],
  recorder: [],
  redis: [],
  coturn: [],
};

/** `--name=value` / `--name value` flags of a command line (coturn, redis). */
function flag(args: string[], name: string): string | undefined {
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i] ?? '';
    if (arg === `--${name}`) return args[i + 1];
    if (arg.startsWith(`--${name}=`)) return arg.slice(name.length + 3);
  }
  return undefined;
}
const hasFlag = (args: string[], name: string): boolean => args.includes(`--${name}`);

function range(first: number, last: number, protocol: Protocol, into: Set<string>): void {
  for (let port = first; port <= last; port += 1) into.add(key(port, protocol));
}

/** The ports (`port/protocol`) a program binds, from its configuration and command line. */
function portsOf(where: string, program: Program, env: Map<string, EnvValue>, args: string[]): Set<string> {
  for (const name of PORT_SETTINGS[program]) {
    const value = env.get(name);
    assert.ok(
      value === undefined || value.literal,
      `${where}: ${name} must be a literal value (it decides ports)`,
    );
  }
  const config = configOf(where, env);
  const ports = new Set<string>();
  switch (program) {
    case 'media': {
      const workers = config.MICROSTUDIO_WORKERS;
      assert.ok(
        workers !== undefined,
        `${where}: set MICROSTUDIO_WORKERS (its default, one per CPU core, decides the WebRTC ports)`,
      );
      ports.add(key(config.MICROSTUDIO_SFU_PORT, 'tcp'));
      const rtc = config.MICROSTUDIO_RTC_PORT;
      range(rtc, rtc + workers - 1, 'udp', ports);
      range(rtc, rtc + workers - 1, 'tcp', ports);
      range(config.MICROSTUDIO_PIPE_PORT_MIN, config.MICROSTUDIO_PIPE_PORT_MAX, 'udp', ports);
      break;
    }
    case 'studio':
      ports.add(key(config.MICROSTUDIO_STUDIO_PORT, 'tcp'));
      ports.add(key(config.MICROSTUDIO_STUDIO_HTTPS_PORT, 'tcp'));
      break;
    case 'recorder':
      break;
    case 'redis':
      ports.add(key(Number(flag(args, 'port') ?? 6379), 'tcp'));
      break;
    case 'coturn': {
      const listening = Number(flag(args, 'listening-port') ?? 3478);
      ports.add(key(listening, 'udp'));
      ports.add(key(listening, 'tcp'));
      if (!hasFlag(args, 'no-tls')) ports.add(key(Number(flag(args, 'tls-listening-port') ?? 5349), 'tcp'));
      if (!hasFlag(args, 'no-tls') && !hasFlag(args, 'no-dtls'))
        ports.add(key(Number(flag(args, 'tls-listening-port') ?? 5349), 'udp'));
      range(Number(flag(args, 'min-port') ?? 49152), Number(flag(args, 'max-port') ?? 65535), 'udp', ports);
      break;
    }
  }
  return ports;
}

function protocolOf(where: string, value: unknown): Protocol {
  const protocol = (str(value) ?? 'tcp').toLowerCase();
  assert.ok(
    protocol === 'tcp' || protocol === 'udp',
    `${where}: protocol ${protocol} is neither tcp nor udp`,
  );
  return protocol;
}

/** Ports in a message: a few, then how many more. */
function show(ports: Iterable<string>): string {
  const all = [...ports];
  return all.length > 6 ? `${all.slice(0, 6).join(', ')} … (${all.length} in all)` : all.join(', ');
}

// --- compose ------------------------------------------------------------------------------------

interface ComposeService {
  name: string;
  where: string;
  program: Program | undefined;
  env: Map<string, EnvValue>;
  args: string[];
  hostNetwork: boolean;
  raw: Obj;
}

function words(value: unknown): string[] {
  if (typeof value === 'string') return value.split(/\s+/).filter(Boolean);
  return list(value).map((w) => String(w));
}

function composeEnv(where: string, value: unknown): Map<string, EnvValue> {
  const env = new Map<string, EnvValue>();
  const add = (name: string, raw: unknown): void => {
    if (raw === null || raw === undefined) {
      env.set(name, { literal: false, from: 'the shell' });
      return;
    }
    assert.ok(
      typeof raw === 'string' || typeof raw === 'number',
      `${where}: ${name} must be a string or a number (quote ${JSON.stringify(raw)})`,
    );
    const text = String(raw);
    env.set(name, interpolated(text) ? { literal: false, from: text } : { literal: true, value: text });
  };
  if (Array.isArray(value)) {
    for (const entry of value) {
      const text = String(entry);
      const eq = text.indexOf('=');
      add(eq < 0 ? text : text.slice(0, eq), eq < 0 ? null : text.slice(eq + 1));
    }
  } else {
    for (const [name, raw] of Object.entries(obj(value))) add(name, raw);
  }
  return env;
}

function composeServices(): ComposeService[] {
  const [doc] = readYaml('compose/compose.yaml');
  const services = obj(obj(doc).services);
  return Object.entries(services).map(([name, raw]) => {
    const service = obj(raw);
    const where = `${COMPOSE_FILE}: service ${name}`;
    const args = [...words(service.entrypoint), ...words(service.command)];
    return {
      name,
      where,
      program: programOf(str(service.image) ?? '', [str(service.working_dir) ?? '', ...args]),
      env: composeEnv(where, service.environment),
      args,
      hostNetwork: service.network_mode === 'host',
      raw: service,
    };
  });
}

interface Published {
  host: number;
  container: number;
  protocol: Protocol;
}

/** compose `ports` entries, short ("[ip:]host:container[/proto]", ranges) and long syntax. */
function publishedPorts(where: string, value: unknown): Published[] {
  const out: Published[] = [];
  const span = (text: string): [number, number] => {
    const [a = '', b = a] = text.split('-');
    return [Number(a), Number(b)];
  };
  for (const entry of list(value)) {
    if (isObj(entry)) {
      const protocol = protocolOf(where, entry.protocol);
      const [first, last] = span(String(entry.target));
      const published = entry.published === undefined ? undefined : span(String(entry.published));
      assert.ok(published, `${where}: port ${first} is not published on a fixed host port`);
      for (let i = 0; i <= last - first; i += 1)
        out.push({ host: published[0] + i, container: first + i, protocol });
      continue;
    }
    const text = String(entry);
    const [mapping = '', proto] = text.split('/');
    const protocol = protocolOf(where, proto);
    const parts = mapping.split(':');
    const containerPart = parts.at(-1) ?? '';
    const hostPart = parts.length >= 2 ? (parts.at(-2) ?? '') : '';
    assert.ok(hostPart !== '', `${where}: "${text}" publishes on a random host port; give the host port`);
    const [cFirst, cLast] = span(containerPart);
    const [hFirst, hLast] = span(hostPart);
    assert.equal(hLast - hFirst, cLast - cFirst, `${where}: "${text}" maps ranges of different lengths`);
    for (let i = 0; i <= cLast - cFirst; i += 1)
      out.push({ host: hFirst + i, container: cFirst + i, protocol });
  }
  return out;
}

/** scheme://host:port of a URL setting, when literal. */
function urlOf(env: Map<string, EnvValue>, name: SettingName): URL | undefined {
  const value = env.get(name);
  return value?.literal ? new URL(value.value) : undefined;
}

/** Read once, inside the first test that needs it (so a broken file fails tests, with its message). */
function once<T>(make: () => T): () => T {
  let value: { made: T } | undefined;
  return () => {
    value ??= { made: make() };
    return value.made;
  };
}

describe('infra/compose/compose.yaml', () => {
  const load = once(() => {
    const services = composeServices();
    return { services, byName: new Map(services.map((s) => [s.name, s])) };
  });

  it('has a site, at least one edge, Redis and coturn', () => {
    const { services, byName } = load();
    const site = byName.get('site');
    assert.ok(site, `${COMPOSE_FILE}: no service "site"`);
    assert.equal(site.program, 'media', `${COMPOSE_FILE}: service site does not run a media node`);
    assert.equal(
      configOf(site.where, site.env).MICROSTUDIO_NODE_ROLE,
      'site',
      `${site.where}: MICROSTUDIO_NODE_ROLE`,
    );
    const edges = services.filter((s) => s.name.startsWith('edge'));
    assert.ok(edges.length >= 1, `${COMPOSE_FILE}: no edge service (a service named edge…)`);
    for (const edge of edges) {
      assert.equal(edge.program, 'media', `${edge.where}: does not run a media node`);
      assert.equal(
        configOf(edge.where, edge.env).MICROSTUDIO_NODE_ROLE,
        'edge',
        `${edge.where}: MICROSTUDIO_NODE_ROLE`,
      );
    }
    assert.equal(byName.get('redis')?.program, 'redis', `${COMPOSE_FILE}: no Redis service "redis"`);
    assert.equal(byName.get('coturn')?.program, 'coturn', `${COMPOSE_FILE}: no coturn service "coturn"`);
  });

  it('sets only known MICROSTUDIO_* variables, to values packages/config accepts', () => {
    for (const service of load().services)
      for (const [name, value] of service.env) checkValue(service.where, name, value);
  });

  it('documents only known MICROSTUDIO_* variables in .env.example', () => {
    const text = readFileSync(new URL('compose/.env.example', infraDir), 'utf8');
    for (const [i, line] of text.split('\n').entries()) {
      const match = /^\s*([A-Za-z_][A-Za-z0-9_]*)=/.exec(line);
      if (match?.[1]) checkName(`${ENV_EXAMPLE}:${i + 1}`, match[1]);
    }
  });

  it('runs every media node on the host network (pipes drop packets from NAT-rewritten sources)', () => {
    for (const service of load().services)
      if (service.program === 'media')
        assert.ok(service.hostNetwork, `${service.where}: a media node needs network_mode: host`);
  });

  it('publishes only ports the service is configured to use, on the same host port', () => {
    for (const service of load().services) {
      const ports = publishedPorts(service.where, service.raw.ports);
      if (service.hostNetwork) {
        assert.equal(ports.length, 0, `${service.where}: network_mode host discards \`ports\`; remove them`);
        continue;
      }
      if (ports.length === 0) continue;
      assert.ok(service.program, `${service.where}: publishes ports but runs no program this test knows`);
      const allowed = portsOf(service.where, service.program, service.env, service.args);
      for (const p of ports) {
        const k = key(p.container, p.protocol);
        assert.ok(
          allowed.has(k),
          `${service.where}: publishes ${k}, which its configuration does not use (it uses ${show(allowed) || 'none'})`,
        );
        assert.equal(
          p.host,
          p.container,
          `${service.where}: publishes ${k} on host port ${p.host}; use the same number`,
        );
      }
    }
  });

  it('gives every service on the host its own ports', () => {
    const owner = new Map<string, string>();
    for (const service of load().services) {
      const used = service.hostNetwork
        ? service.program
          ? [...portsOf(service.where, service.program, service.env, service.args)]
          : []
        : publishedPorts(service.where, service.raw.ports).map((p) => key(p.host, p.protocol));
      for (const port of used) {
        const other = owner.get(port);
        assert.ok(
          other === undefined,
          `${COMPOSE_FILE}: services ${other} and ${service.name} both use host port ${port}`,
        );
        owner.set(port, service.name);
      }
    }
  });

  it('points the studio and the recorder at the site, and the nodes at Redis', () => {
    const { services, byName } = load();
    const siteService = byName.get('site');
    assert.ok(siteService, `${COMPOSE_FILE}: no service "site"`);
    const site = configOf(siteService.where, siteService.env);
    for (const service of services) {
      const sfu = urlOf(service.env, 'MICROSTUDIO_SFU_URL');
      if (sfu) {
        assert.equal(
          Number(sfu.port),
          site.MICROSTUDIO_SFU_PORT,
          `${service.where}: MICROSTUDIO_SFU_URL ${sfu.href} is not the site's MICROSTUDIO_SFU_PORT`,
        );
      }
      const fabric = urlOf(service.env, 'MICROSTUDIO_FABRIC_URL');
      if (fabric) {
        const redis = byName.get(fabric.hostname);
        assert.equal(
          redis?.program,
          'redis',
          `${service.where}: MICROSTUDIO_FABRIC_URL names no Redis service`,
        );
        const published = publishedPorts(redis.where, redis.raw.ports).map((p) => p.host);
        assert.ok(
          published.includes(Number(fabric.port || 6379)),
          `${service.where}: MICROSTUDIO_FABRIC_URL port ${fabric.port} is not published by ${redis.name}`,
        );
      }
    }
  });
});

// --- kubernetes ---------------------------------------------------------------------------------

interface K8sObject {
  file: string;
  kind: string;
  name: string;
  body: Obj;
}

interface K8sContainer {
  where: string;
  owner: K8sObject;
  program: Program | undefined;
  env: Map<string, EnvValue>;
  args: string[];
  ports: { name: string | undefined; port: number; protocol: Protocol }[];
}

const WORKLOADS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'Pod']);

function k8sFiles(): string[] {
  return readdirSync(new URL('k8s/', infraDir))
    .filter((f) => f.endsWith('.yaml'))
    .sort();
}

function k8sObjects(): K8sObject[] {
  return k8sFiles().flatMap((file) =>
    readYaml(`k8s/${file}`)
      .filter(isObj)
      .map((body) => ({
        file: `infra/k8s/${file}`,
        kind: str(body.kind) ?? '',
        name: str(obj(body.metadata).name) ?? '',
        body,
      })),
  );
}

function podSpecOf(object: K8sObject): Obj {
  return object.kind === 'Pod' ? obj(object.body.spec) : obj(obj(obj(object.body.spec).template).spec);
}
function podLabelsOf(object: K8sObject): Obj {
  return object.kind === 'Pod'
    ? obj(obj(object.body.metadata).labels)
    : obj(obj(obj(obj(object.body.spec).template).metadata).labels);
}

describe('infra/k8s/*.yaml', () => {
  const load = once(() => {
    const objects = k8sObjects();
    const configMaps = new Map(objects.filter((o) => o.kind === 'ConfigMap').map((o) => [o.name, o]));
    const secrets = new Map(objects.filter((o) => o.kind === 'Secret').map((o) => [o.name, o]));
    const workloads = objects.filter((o) => WORKLOADS.has(o.kind));

    const containers: K8sContainer[] = workloads.flatMap((owner) =>
      list(podSpecOf(owner).containers).map((raw) => {
        const c = obj(raw);
        const where = `${owner.file}: ${owner.kind} ${owner.name}, container ${str(c.name)}`;
        const env = new Map<string, EnvValue>();
        for (const from of list(c.envFrom)) {
          const ref = str(obj(obj(from).configMapRef).name);
          if (ref === undefined) continue;
          const map = configMaps.get(ref);
          assert.ok(map, `${where}: envFrom names ConfigMap ${ref}, which no file defines`);
          for (const [name, value] of Object.entries(obj(map.body.data)))
            env.set(name, { literal: true, value: String(value) });
        }
        for (const entry of list(c.env).map(obj)) {
          const name = str(entry.name) ?? '';
          if (entry.valueFrom !== undefined) {
            const secretRef = obj(obj(entry.valueFrom).secretKeyRef);
            const secret = str(secretRef.name);
            if (secret !== undefined) {
              const keyName = str(secretRef.key) ?? '';
              const data = {
                ...obj(secrets.get(secret)?.body.stringData),
                ...obj(secrets.get(secret)?.body.data),
              };
              assert.ok(
                Object.hasOwn(data, keyName),
                `${where}: ${name} reads key ${keyName} of Secret ${secret}, which ${SECRET_TEMPLATE} does not list`,
              );
            }
            env.set(name, { literal: false, from: 'valueFrom' });
            continue;
          }
          assert.ok(
            typeof entry.value === 'string',
            `${where}: env ${name} must be a string (Kubernetes refuses numbers and booleans: quote it)`,
          );
          env.set(
            name,
            interpolated(entry.value)
              ? { literal: false, from: entry.value }
              : { literal: true, value: entry.value },
          );
        }
        const args = [...words(c.command), ...words(c.args)];
        const ports = list(c.ports).map((p) => {
          const port = obj(p);
          const number = Number(port.containerPort);
          const protocol = protocolOf(where, port.protocol);
          if (port.hostPort !== undefined)
            assert.equal(
              port.hostPort,
              number,
              `${where}: hostPort ${port.hostPort} is not its containerPort ${number}`,
            );
          return { name: str(port.name), port: number, protocol };
        });
        return {
          where,
          owner,
          program: programOf(str(c.image) ?? '', [str(c.workingDir) ?? '', ...args]),
          env,
          args,
          ports,
        };
      }),
    );
    return { objects, configMaps, secrets, workloads, containers };
  });

  it('finds the manifests', () => {
    const { workloads, containers } = load();
    assert.ok(workloads.length > 0, 'infra/k8s: no workloads');
    for (const program of ['media', 'studio', 'redis', 'coturn'] as const)
      assert.ok(
        containers.some((c) => c.program === program),
        `infra/k8s: no container runs ${program}`,
      );
  });

  it('sets only known MICROSTUDIO_* variables, to values packages/config accepts', () => {
    const { configMaps, secrets, containers } = load();
    for (const map of configMaps.values()) {
      for (const [name, value] of Object.entries(obj(map.body.data))) {
        const where = `${map.file}: ConfigMap ${map.name}`;
        assert.ok(typeof value === 'string', `${where}: ${name} must be a string (quote it)`);
        checkValue(where, name, { literal: true, value });
      }
    }
    for (const secret of secrets.values()) {
      for (const name of Object.keys({ ...obj(secret.body.stringData), ...obj(secret.body.data) }))
        checkName(`${secret.file}: Secret ${secret.name}`, name);
    }
    for (const container of containers)
      for (const [name, value] of container.env) checkValue(container.where, name, value);
  });

  it('declares only ports the container is configured to use', () => {
    for (const container of load().containers) {
      if (container.ports.length === 0) continue;
      assert.ok(container.program, `${container.where}: declares ports but runs no program this test knows`);
      const allowed = portsOf(container.where, container.program, container.env, container.args);
      for (const p of container.ports) {
        const k = key(p.port, p.protocol);
        assert.ok(
          allowed.has(k),
          `${container.where}: declares ${k}, which its configuration does not use (it uses ${show(allowed) || 'none'})`,
        );
      }
    }
  });

  it('runs media nodes on the host network, declaring their signaling port', () => {
    for (const container of load().containers.filter((c) => c.program === 'media')) {
      const spec = podSpecOf(container.owner);
      assert.equal(spec.hostNetwork, true, `${container.where}: a media node needs hostNetwork: true`);
      assert.equal(
        spec.dnsPolicy,
        'ClusterFirstWithHostNet',
        `${container.where}: with hostNetwork, set dnsPolicy: ClusterFirstWithHostNet to resolve cluster Services`,
      );
      const sfu = configOf(container.where, container.env).MICROSTUDIO_SFU_PORT;
      assert.ok(
        container.ports.some((p) => p.port === sfu && p.protocol === 'tcp'),
        `${container.where}: declare MICROSTUDIO_SFU_PORT ${sfu}/tcp (the scheduler then keeps media nodes apart)`,
      );
    }
  });

  it('has Services whose ports are the ports of the pods they select', () => {
    const { objects, containers } = load();
    for (const service of objects.filter((o) => o.kind === 'Service')) {
      const where = `${service.file}: Service ${service.name}`;
      const spec = obj(service.body.spec);
      const selector = Object.entries(obj(spec.selector));
      const selected = containers.filter((c) => selector.every(([k, v]) => podLabelsOf(c.owner)[k] === v));
      assert.ok(selected.length > 0, `${where}: its selector matches no workload`);
      for (const raw of list(spec.ports)) {
        const port = obj(raw);
        const protocol = protocolOf(where, port.protocol);
        const target = port.targetPort ?? port.port;
        const match = selected
          .flatMap((c) => c.ports)
          .find(
            (p) =>
              p.protocol === protocol && (typeof target === 'string' ? p.name === target : p.port === target),
          );
        assert.ok(
          match,
          `${where}: port ${String(port.port)} targets ${String(target)}/${protocol}, no container declares it`,
        );
        assert.equal(
          port.port,
          match.port,
          `${where}: port ${String(port.port)} must equal its container port ${match.port}`,
        );
      }
    }
  });

  it('points the studio at the site Service, the recorder at its pod, the nodes at Redis', () => {
    const { objects, containers } = load();
    const services = objects.filter((o) => o.kind === 'Service');
    const servicePorts = (name: string): number[] =>
      list(obj(services.find((s) => s.name === name)?.body.spec).ports).map((p) => Number(obj(p).port));
    for (const container of containers) {
      const sfu = urlOf(container.env, 'MICROSTUDIO_SFU_URL');
      if (sfu) {
        const port = Number(sfu.port);
        if (sfu.hostname === '127.0.0.1' || sfu.hostname === 'localhost') {
          const neighbour = containers.find((c) => c.owner === container.owner && c.program === 'media');
          assert.ok(
            neighbour,
            `${container.where}: MICROSTUDIO_SFU_URL is loopback but no media node shares its pod`,
          );
          assert.equal(
            port,
            configOf(neighbour.where, neighbour.env).MICROSTUDIO_SFU_PORT,
            `${container.where}: MICROSTUDIO_SFU_URL port`,
          );
        } else {
          assert.ok(
            servicePorts(sfu.hostname).includes(port),
            `${container.where}: MICROSTUDIO_SFU_URL ${sfu.href}: no Service ${sfu.hostname} with port ${port}`,
          );
        }
      }
      const fabric = urlOf(container.env, 'MICROSTUDIO_FABRIC_URL');
      if (fabric)
        assert.ok(
          servicePorts(fabric.hostname).includes(Number(fabric.port || 6379)),
          `${container.where}: MICROSTUDIO_FABRIC_URL ${fabric.href}: no Service ${fabric.hostname} with that port`,
        );
    }
  });

  it('lists every manifest in kustomization.yaml except the Secret template', () => {
    const [kustomization] = readYaml('k8s/kustomization.yaml');
    const resources = list(obj(kustomization).resources).map(String).sort();
    const expected = k8sFiles().filter((f) => f !== 'kustomization.yaml' && f !== SECRET_TEMPLATE);
    assert.deepEqual(resources, expected, 'infra/k8s/kustomization.yaml: resources');
  });
});
