/**
 * Debian's Janus (1.1.x) as the capacity bench's reference: a child process with a minimal config
 * in a temp dir (the VideoRoom plugin and the HTTP transport on 127.0.0.1; no other plugin,
 * transport, event handler or logger), one VideoRoom room with one *remote publisher* (Janus's
 * plain-RTP ingest for SFU cascading: its own thread reads the sender's RTP from a UDP socket) and
 * one `rtp_forward` forwarder per receiver. A forwarder is Janus's closest analogue of a mediasoup
 * PlainTransport consumer, but lighter: it `sendto()`s the publisher's packet as it came (no
 * per-forwarder sequence/timestamp rewriting, no RTCP sender reports, no NACK/retransmission).
 * Installed by `bash infra/provision/provision.sh --for-janus-bench`.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import type { CapacityTarget } from './capacity-target.ts';

/** Janus's remote publishers take stream m-index i on SSRC 1000 + 10·i (REMOTE_PUBLISHER_BASE_SSRC). */
const REMOTE_PUBLISHER_SSRC = 1000;
const ROOM = 1;
const PUBLISHER = 1;
const BATCH = 50;

const JanusReply = z.object({
  janus: z.string(),
  data: z.object({ id: z.number() }).optional(),
  error: z.object({ code: z.number(), reason: z.string() }).optional(),
  plugindata: z.object({ data: z.record(z.string(), z.unknown()) }).optional(),
});
const RemotePublisher = z.object({ port: z.number(), ip: z.string().optional() });

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Where Debian put Janus's plugins and transports (the package's own file list). */
function janusLibDir(): string {
  let files: string;
  try {
    files = execFileSync('dpkg', ['-L', 'janus'], { encoding: 'utf8' });
  } catch {
    throw new Error(
      "Debian's janus package is not installed.\n  fix: bash infra/provision/provision.sh --for-janus-bench",
    );
  }
  const videoroom = files.split('\n').find((f) => f.endsWith('/plugins/libjanus_videoroom.so'));
  if (!videoroom) throw new Error('the janus package has no VideoRoom plugin');
  return videoroom.slice(0, -'/plugins/libjanus_videoroom.so'.length);
}

async function freeTcpPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no TCP port');
  return address.port;
}

/** user + system CPU of a process from /proc/<pid>/stat, in milliseconds. */
let clockTicks: number | undefined;
async function procCpuMs(pid: number): Promise<number> {
  clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may contain spaces): state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks;
}

class JanusApi {
  #transaction = 0;
  #session = 0;
  #handle = 0;
  constructor(readonly url: string) {}

  async #post(path: string, body: Record<string, unknown>): Promise<z.infer<typeof JanusReply>> {
    this.#transaction += 1;
    const response = await fetch(`${this.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...body, transaction: String(this.#transaction) }),
    });
    const reply = JanusReply.parse(await response.json());
    if (reply.janus === 'error') throw new Error(`janus: ${reply.error?.reason ?? 'error'}`);
    return reply;
  }

  async attachVideoRoom(): Promise<void> {
    const session = await this.#post('', { janus: 'create' });
    this.#session = session.data?.id ?? 0;
    const handle = await this.#post(`/${this.#session}`, {
      janus: 'attach',
      plugin: 'janus.plugin.videoroom',
    });
    this.#handle = handle.data?.id ?? 0;
    if (!this.#session || !this.#handle) throw new Error('janus: no session or handle');
  }

  /** A synchronous VideoRoom request; returns the plugin's data or throws its error. */
  async videoroom(body: Record<string, unknown>): Promise<Record<string, unknown>> {
    const reply = await this.#post(`/${this.#session}/${this.#handle}`, { janus: 'message', body });
    const data = reply.plugindata?.data;
    if (!data) throw new Error(`janus: no plugin data for ${String(body.request)}`);
    if (data.videoroom === 'event' && data.error) throw new Error(`janus videoroom: ${String(data.error)}`);
    return data;
  }
}

function config(dir: string, httpPort: number): Record<string, string> {
  return {
    'janus.jcfg': `general: {
  configs_folder = "${dir}"
  plugins_folder = "${dir}/plugins"
  transports_folder = "${dir}/transports"
  events_folder = "${dir}/none"
  loggers_folder = "${dir}/none"
  log_to_stdout = false
  log_to_file = "${dir}/janus.log"
  debug_level = 3
  session_timeout = 0
}
media: { ipv6 = false }
nat: { ice_enforce_list = "127.0.0.1" }
events: { broadcast = false }
`,
    'janus.transport.http.jcfg': `general: { json = "compact", base_path = "/janus", http = true, port = ${httpPort}, ip = "127.0.0.1", https = false }
admin: { admin_http = false, admin_https = false }
`,
    'janus.plugin.videoroom.jcfg': 'general: { }\n',
  };
}

async function waitForHttp(url: string, child: ChildProcess, logFile: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    try {
      const response = await fetch(`${url}/info`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  const log = await readFile(logFile, 'utf8').catch(() => '(no log)');
  throw new Error(
    `janus did not answer on ${url} (exit code ${child.exitCode}); its log:\n${log.slice(-3000)}`,
  );
}

/** Starts Janus, creates the room and the remote publisher; forwarders are added by `add`. */
export async function startJanusVideoRoom(): Promise<CapacityTarget> {
  const lib = janusLibDir();
  const dir = await mkdtemp(join(tmpdir(), 'microstudio-janus-'));
  await mkdir(join(dir, 'plugins'));
  await mkdir(join(dir, 'transports'));
  await mkdir(join(dir, 'none'));
  await symlink(join(lib, 'plugins', 'libjanus_videoroom.so'), join(dir, 'plugins', 'libjanus_videoroom.so'));
  await symlink(join(lib, 'transports', 'libjanus_http.so'), join(dir, 'transports', 'libjanus_http.so'));
  const httpPort = await freeTcpPort();
  for (const [name, text] of Object.entries(config(dir, httpPort))) await writeFile(join(dir, name), text);

  const child = spawn(
    'janus',
    ['--config', join(dir, 'janus.jcfg'), '--configs-folder', dir, '--disable-colors'],
    {
      stdio: 'ignore',
    },
  );
  let spawnError: Error | undefined;
  child.once('error', (error) => {
    spawnError = error;
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const close = async () => {
    process.off('exit', killOnExit);
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };
  const pid = child.pid;
  if (pid === undefined) {
    await close();
    await new Promise((resolve) => setImmediate(resolve)); // the spawn error, if any
    throw new Error(`janus did not start: ${spawnError?.message ?? 'no pid'} (is it on PATH?)`);
  }

  try {
    const url = `http://127.0.0.1:${httpPort}/janus`;
    await waitForHttp(url, child, join(dir, 'janus.log'));
    const api = new JanusApi(url);
    await api.attachVideoRoom();
    await api.videoroom({
      request: 'create',
      room: ROOM,
      publishers: 1,
      videocodec: 'vp8',
      permanent: false,
    });
    const publisher = RemotePublisher.parse(
      await api.videoroom({
        request: 'add_remote_publisher',
        room: ROOM,
        id: PUBLISHER,
        display: 'capacity bench',
        iface: '127.0.0.1',
        streams: [{ type: 'video', mindex: 0, mid: '0', codec: 'vp8' }],
      }),
    );
    return {
      name: 'janus',
      pid,
      ingressPort: publisher.port,
      ssrc: REMOTE_PUBLISHER_SSRC,
      async add(ports) {
        for (let i = 0; i < ports.length; i += BATCH) {
          const data = await api.videoroom({
            request: 'rtp_forward',
            room: ROOM,
            publisher_id: PUBLISHER,
            host: '127.0.0.1',
            host_family: 'ipv4',
            streams: ports.slice(i, i + BATCH).map((port) => ({ mid: '0', port })),
          });
          const made = Array.isArray(data.forwarders) ? data.forwarders.length : 0;
          if (made !== Math.min(BATCH, ports.length - i)) throw new Error('janus: rtp_forward made too few');
        }
        // The forwarders send the publisher's packets as they came: its SSRC on every port.
        return ports.map(() => REMOTE_PUBLISHER_SSRC);
      },
      cpuMs: () => procCpuMs(pid),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
