import type { RecordingRtp } from './NodeClient.ts';

/**
 * A one-track SDP for ffmpeg's RTP demuxer: where to listen (rtp port; RTCP on its own port) and
 * how to read the payload. With a single stream ffmpeg's timestamps start at the first packet,
 * which is what the node's show-clock anchor refers to.
 */
export function trackSdp(rtp: RecordingRtp, ip: string, rtpPort: number, rtcpPort: number): string {
  const kind = rtp.mimeType.split('/')[0] === 'audio' ? 'audio' : 'video';
  const encoding = rtp.mimeType.split('/')[1] ?? '';
  const family = ip.includes(':') ? 'IP6' : 'IP4';
  const channels = kind === 'audio' && rtp.channels ? `/${rtp.channels}` : '';
  const fmtp = Object.entries(rtp.parameters)
    .map(([key, value]) => `${key}=${value}`)
    .join(';');
  return [
    'v=0',
    `o=- 0 0 IN ${family} ${ip}`,
    's=microstudio recorder',
    `c=IN ${family} ${ip}`,
    't=0 0',
    `m=${kind} ${rtpPort} RTP/AVP ${rtp.payloadType}`,
    `a=rtcp:${rtcpPort}`,
    `a=rtpmap:${rtp.payloadType} ${encoding}/${rtp.clockRate}${channels}`,
    ...(fmtp ? [`a=fmtp:${rtp.payloadType} ${fmtp}`] : []),
    'a=recvonly',
    '',
  ].join('\n');
}

/** Container per codec: WebM for VP8/VP9/Opus, Matroska for the rest (H.264). */
export function containerOf(mimeType: string): { format: 'webm' | 'matroska'; extension: 'webm' | 'mkv' } {
  const codec = mimeType.toLowerCase();
  if (codec === 'video/vp8' || codec === 'video/vp9' || codec === 'audio/opus')
    return { format: 'webm', extension: 'webm' };
  return { format: 'matroska', extension: 'mkv' };
}
