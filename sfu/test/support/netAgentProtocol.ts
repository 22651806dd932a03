// What a test can ask of a netAgent (one JSON object per line each way).
import type { Reach, RttSample } from './netProbes.ts';

export interface AgentOps {
  tcpReach: { args: { host: string; port: number; timeoutMs: number }; result: Reach };
  udpRtt: {
    args: { host: string; port: number; count?: number; intervalMs?: number; timeoutMs?: number };
    result: RttSample;
  };
  /** Opens an EchoStream; the result is its handle for streamEcho. */
  streamOpen: { args: { host: string; port: number; timeoutMs: number }; result: { stream: number } };
  streamEcho: { args: { stream: number; timeoutMs: number }; result: Reach };
}

export type AgentOp = keyof AgentOps;

export interface AgentRequest {
  id: number;
  op: AgentOp;
  args: AgentOps[AgentOp]['args'];
}

export type AgentReply = { id: number; result: unknown } | { id: number; error: string };

/** The agent's first line, once its echo servers listen. */
export const AGENT_READY = 'agent-ready';
