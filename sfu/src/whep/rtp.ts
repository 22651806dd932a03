/**
 * The few RTP/RTCP byte operations the program relay needs (RFC 3550, RFC 4585, RFC 5104),
 * on packets as they arrive from mediasoup over loopback: plain RTP and RTCP, rtcp-mux.
 */

const RTCP_SR = 200;
const RTCP_PSFB = 206;
const PSFB_PLI = 1;
const PSFB_FIR = 4;

/** RTCP with rtcp-mux: the second byte is an RTCP packet type (RFC 5761 §4). */
export function isRtcp(packet: Buffer): boolean {
  const type = packet[1] ?? 0;
  return packet.length >= 8 && type >= 192 && type <= 223;
}

export function isRtp(packet: Buffer): boolean {
  return packet.length >= 12 && (packet[0] ?? 0) >> 6 === 2 && !isRtcp(packet);
}

export interface RtpHeaderFields {
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
}

export function readRtp(packet: Buffer): RtpHeaderFields {
  return {
    sequenceNumber: packet.readUInt16BE(2),
    timestamp: packet.readUInt32BE(4),
    ssrc: packet.readUInt32BE(8),
  };
}

/** Rewrites payload type, sequence number, timestamp and SSRC in place (marker bit kept). */
export function rewriteRtp(packet: Buffer, fields: RtpHeaderFields & { payloadType: number }): void {
  packet[1] = ((packet[1] ?? 0) & 0x80) | (fields.payloadType & 0x7f);
  packet.writeUInt16BE(fields.sequenceNumber & 0xffff, 2);
  packet.writeUInt32BE(fields.timestamp >>> 0, 4);
  packet.writeUInt32BE(fields.ssrc >>> 0, 8);
}

/** Each packet of a compound RTCP packet: its type, its first-byte count/format, its bytes. */
function* rtcpPackets(compound: Buffer): Generator<{ type: number; count: number; body: Buffer }> {
  let offset = 0;
  while (offset + 4 <= compound.length) {
    const first = compound[offset] ?? 0;
    if (first >> 6 !== 2) return;
    const length = (compound.readUInt16BE(offset + 2) + 1) * 4;
    if (offset + length > compound.length) return;
    yield {
      type: compound[offset + 1] ?? 0,
      count: first & 0x1f,
      body: compound.subarray(offset, offset + length),
    };
    offset += length;
  }
}

/** The media SSRCs a compound RTCP packet asks a key frame of (PLI, FIR). */
export function keyFrameRequests(compound: Buffer): number[] {
  const ssrcs: number[] = [];
  for (const { type, count, body } of rtcpPackets(compound)) {
    if (type !== RTCP_PSFB) continue;
    if (count === PSFB_PLI && body.length >= 12) ssrcs.push(body.readUInt32BE(8));
    if (count === PSFB_FIR) {
      // FIR names its targets in the FCI entries (8 bytes each), not in the media SSRC field.
      for (let at = 12; at + 8 <= body.length; at += 8) ssrcs.push(body.readUInt32BE(at));
    }
  }
  return ssrcs;
}

export interface SenderReport {
  ssrc: number;
  ntpSeconds: number;
  ntpFraction: number;
  rtpTimestamp: number;
  packetCount: number;
  octetCount: number;
}

/** The sender reports (sender info only) in a compound RTCP packet. */
export function senderReports(compound: Buffer): SenderReport[] {
  const reports: SenderReport[] = [];
  for (const { type, body } of rtcpPackets(compound)) {
    if (type !== RTCP_SR || body.length < 28) continue;
    reports.push({
      ssrc: body.readUInt32BE(4),
      ntpSeconds: body.readUInt32BE(8),
      ntpFraction: body.readUInt32BE(12),
      rtpTimestamp: body.readUInt32BE(16),
      packetCount: body.readUInt32BE(20),
      octetCount: body.readUInt32BE(24),
    });
  }
  return reports;
}

/** A sender report without report blocks (28 bytes). */
export function senderReport(report: SenderReport): Buffer {
  const packet = Buffer.alloc(28);
  packet[0] = 0x80;
  packet[1] = RTCP_SR;
  packet.writeUInt16BE(6, 2);
  packet.writeUInt32BE(report.ssrc >>> 0, 4);
  packet.writeUInt32BE(report.ntpSeconds >>> 0, 8);
  packet.writeUInt32BE(report.ntpFraction >>> 0, 12);
  packet.writeUInt32BE(report.rtpTimestamp >>> 0, 16);
  packet.writeUInt32BE(report.packetCount >>> 0, 20);
  packet.writeUInt32BE(report.octetCount >>> 0, 24);
  return packet;
}

/** Whether sequence number `a` is after `b` (RFC 3550 wrap-around). */
export function seqAfter(a: number, b: number): boolean {
  const diff = (a - b) & 0xffff;
  return diff !== 0 && diff < 0x8000;
}
