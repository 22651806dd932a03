/** What the capacity bench drives: one forwarder of one VP8 stream to N UDP receivers. */
export interface CapacityTarget {
  /** Name in the bench's tables. */
  readonly name: string;
  /** The process whose CPU is measured. */
  readonly pid: number;
  /** UDP port on 127.0.0.1 where the forwarder takes the sender's plain RTP. */
  readonly ingressPort: number;
  /** SSRC the sender must use. */
  readonly ssrc: number;
  /** Adds one consumer (or forwarder) per receiver port; returns the SSRC each receiver sees. */
  add(ports: number[]): Promise<number[]>;
  /** User + system CPU time of the forwarding process so far, in milliseconds. */
  cpuMs(): Promise<number>;
  /** The forwarder's own counts of packets in (ingress) and out (all consumers), where it has them. */
  counts?(): Promise<{ in: number; out: number }>;
  close(): Promise<void>;
}
