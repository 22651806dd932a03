import { WhipError } from '../whip/errors.ts';

/** A WHEP request refused with a status, a short plain-text reason and extra response headers. */
export class WhepError extends WhipError {
  override name = 'WhepError';
}

/**
 * The offer is well-formed SDP (so not 400) of the right media type (so not 415), but asks for
 * media the node cannot send: no m-section offers to receive a codec the node relays. 406 Not
 * Acceptable: the node has no representation the player says it can accept.
 */
export class NotAcceptableError extends WhepError {
  override name = 'NotAcceptableError';
  constructor() {
    super(
      406,
      'no receivable codec in the offer (the node sends Opus, H.264 packetization-mode 1 or VP8, recvonly)',
    );
  }
}
