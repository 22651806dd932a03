// Runs inside a WAN host's namespace (started by netAgentClient.ts): serves TCP and UDP echo on the
// port in argv, and runs probes from this host on request, one JSON line per request on stdin.
// Exits when stdin closes, so it never outlives the test that started it.
import { createInterface } from 'node:readline';
import { AGENT_READY, type AgentOps, type AgentReply, type AgentRequest } from './netAgentProtocol.ts';
import { EchoStream, startEchoServers, tcpReach, udpRtt } from './netProbes.ts';

const port = Number(process.argv[2]);
const streams = new Map<number, EchoStream>();

async function handle(request: AgentRequest): Promise<unknown> {
  switch (request.op) {
    case 'tcpReach': {
      const { host, port, timeoutMs } = request.args as AgentOps['tcpReach']['args'];
      return tcpReach(host, port, timeoutMs);
    }
    case 'udpRtt': {
      const { host, port, ...options } = request.args as AgentOps['udpRtt']['args'];
      return udpRtt(host, port, options);
    }
    case 'streamOpen': {
      const { host, port, timeoutMs } = request.args as AgentOps['streamOpen']['args'];
      const stream = await EchoStream.open(host, port, timeoutMs);
      streams.set(request.id, stream);
      return { stream: request.id };
    }
    case 'streamEcho': {
      const { stream, timeoutMs } = request.args as AgentOps['streamEcho']['args'];
      const found = streams.get(stream);
      if (!found) throw new Error(`no stream ${stream}`);
      return found.echo(timeoutMs);
    }
  }
}

const reply = (message: AgentReply): void => {
  process.stdout.write(`${JSON.stringify(message)}\n`);
};

const servers = await startEchoServers(port);
process.stdout.write(`${AGENT_READY}\n`);
const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const request = JSON.parse(line) as AgentRequest;
  handle(request).then(
    (result) => reply({ id: request.id, result }),
    (error: Error) => reply({ id: request.id, error: error.message }),
  );
});
lines.on('close', () => {
  for (const stream of streams.values()) stream.close();
  void servers.close().then(() => process.exit(0));
});
