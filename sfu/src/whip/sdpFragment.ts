import type { types } from 'mediasoup';
import { WhipError } from './errors.ts';

/** The media type of a PATCH body (RFC 8840, used by RFC 9725 §4.3). */
export const SDPFRAG_TYPE = 'application/trickle-ice-sdpfrag';

/** What the node reads from a trickle-ice-sdpfrag: the ICE credentials and the m-line they are for. */
export interface IceFragment {
  /** ice-ufrag/ice-pwd when the fragment carries them (a restart when they differ from the offer's). */
  credentials?: { ufrag: string; pwd: string };
  /** The first m-line and its a=mid, echoed in a restart answer (the bundle's offerer-tagged one). */
  media?: { line: string; mid?: string };
  /** a=group:BUNDLE, echoed in a restart answer. */
  bundle?: string;
  /** How many a=candidate lines it had (the node does not use them: see IceSession). */
  candidates: number;
}

/** The fragment is not a trickle-ice-sdpfrag the node can read (400). */
export class MalformedFragmentError extends WhipError {
  override name = 'MalformedFragmentError';
  constructor(message: string) {
    super(400, `malformed SDP fragment: ${message}`);
  }
}

/** RFC 8839 §5.1: foundation component-id transport priority address port "typ" type … */
const CANDIDATE = /^candidate:\S{1,32} \d{1,3} \S+ \d{1,10} \S+ \d{1,5} typ (host|srflx|prflx|relay)( .*)?$/i;
/** RFC 8839 §5.4: ice-char is ALPHA / DIGIT / "+" / "/"; ufrag 4–256 chars, pwd 22–256. */
const UFRAG = /^[A-Za-z0-9+/]{4,256}$/;
const PWD = /^[A-Za-z0-9+/]{22,256}$/;
/** Session- and media-level lines RFC 8840 §9 allows in a fragment (others are refused). */
const KNOWN_ATTRIBUTES = new Set([
  'ice-ufrag',
  'ice-pwd',
  'ice-options',
  'ice-pacing',
  'ice-lite',
  'group',
  'mid',
  'candidate',
  'end-of-candidates',
]);

/** Reads a PATCH body; throws MalformedFragmentError for anything not in RFC 8840's grammar. */
export function parseIceFragment(text: string): IceFragment {
  const lines = text.split(/\r?\n/).filter((line) => line.length > 0);
  if (lines.length === 0) throw new MalformedFragmentError('it is empty');
  let ufrag: string | undefined;
  let pwd: string | undefined;
  let media: IceFragment['media'];
  let bundle: string | undefined;
  let candidates = 0;
  let mLines = 0;
  for (const line of lines) {
    if (line.startsWith('m=')) {
      if (!/^m=(audio|video|application) \d{1,5} \S+ \S.*$/.test(line))
        throw new MalformedFragmentError('bad m= line');
      mLines++;
      if (!media) media = { line };
      continue;
    }
    const match = /^a=([a-z-]+)(?::(.*))?$/.exec(line);
    if (!match?.[1]) throw new MalformedFragmentError(`unexpected line "${line.slice(0, 40)}"`);
    const [, name, value = ''] = match;
    if (!KNOWN_ATTRIBUTES.has(name)) throw new MalformedFragmentError(`unexpected a=${name.slice(0, 32)}`);
    if (name === 'candidate') {
      if (!CANDIDATE.test(`candidate:${value}`)) throw new MalformedFragmentError('bad a=candidate');
      candidates++;
    } else if (name === 'ice-ufrag') {
      if (!UFRAG.test(value) || (ufrag !== undefined && ufrag !== value))
        throw new MalformedFragmentError('bad or conflicting a=ice-ufrag');
      ufrag = value;
    } else if (name === 'ice-pwd') {
      if (!PWD.test(value) || (pwd !== undefined && pwd !== value))
        throw new MalformedFragmentError('bad or conflicting a=ice-pwd');
      pwd = value;
    } else if (name === 'mid' && media && mLines === 1) {
      media.mid = value;
    } else if (name === 'group' && value.startsWith('BUNDLE')) {
      bundle = value;
    }
  }
  if ((ufrag === undefined) !== (pwd === undefined))
    throw new MalformedFragmentError('a=ice-ufrag and a=ice-pwd go together');
  return {
    ...(ufrag !== undefined && pwd !== undefined ? { credentials: { ufrag, pwd } } : {}),
    ...(media ? { media } : {}),
    ...(bundle !== undefined ? { bundle } : {}),
    candidates,
  };
}

/** One mediasoup candidate as an a=candidate line. */
function candidateLine(c: types.IceCandidate): string {
  const tcp = c.tcpType ? ` tcptype ${c.tcpType}` : '';
  return `a=candidate:${c.foundation} 1 ${c.protocol} ${c.priority} ${c.address} ${c.port} typ ${c.type}${tcp}`;
}

/**
 * The 200 body of an ICE restart (RFC 9725 §4.3.2): ice-lite as in the answer, the request's
 * bundle group and m-line (so the client knows which section it is for), the node's new
 * credentials and its candidates (unchanged: the worker's WebRtcServer ports).
 */
export function restartFragment(
  request: IceFragment,
  ice: types.IceParameters,
  candidates: types.IceCandidate[],
): string {
  const lines = ['a=ice-lite'];
  if (request.bundle) lines.push(`a=group:${request.bundle}`);
  if (request.media) {
    lines.push(request.media.line);
    if (request.media.mid !== undefined) lines.push(`a=mid:${request.media.mid}`);
  }
  lines.push(`a=ice-ufrag:${ice.usernameFragment}`, `a=ice-pwd:${ice.password}`);
  lines.push(...candidates.map(candidateLine), 'a=end-of-candidates');
  return `${lines.join('\r\n')}\r\n`;
}
