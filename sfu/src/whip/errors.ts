/** A WHIP/WHEP request refused with an HTTP status, a short plain-text reason and extra headers. */
export class WhipError extends Error {
  override name = 'WhipError';
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** The offer is not SDP we can read (400). */
export class MalformedSdpError extends WhipError {
  override name = 'MalformedSdpError';
  constructor(message: string) {
    super(400, `malformed SDP offer: ${message}`);
  }
}

/** The offer has no m-section with a codec the node accepts (415, as for an unsupported media type). */
export class UnsupportedCodecError extends WhipError {
  override name = 'UnsupportedCodecError';
  constructor() {
    super(415, 'no supported codec in the offer (accepted: Opus, H.264 packetization-mode 1, VP8)');
  }
}
