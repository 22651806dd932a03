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

/**
 * The offer is well-formed SDP but cannot be ingested as a whole: no m-section with a codec the
 * node accepts, or one m-section the node would have to reject (RFC 9725 §4.5: no partially
 * successful answers). 422 Unprocessable Content, as RFC 9725 says (415 is for the content type).
 */
export class UnprocessableOfferError extends WhipError {
  override name = 'UnprocessableOfferError';
  constructor(reason: string) {
    super(422, `the offer cannot be ingested: ${reason}`);
  }
}

/** The offer has no m-section with a codec the node accepts (422). */
export class UnsupportedCodecError extends UnprocessableOfferError {
  override name = 'UnsupportedCodecError';
  constructor() {
    super('no supported codec (accepted: Opus, H.264 packetization-mode 1, VP8)');
  }
}
