import { randomBytes } from 'node:crypto';
import type { types } from 'mediasoup';
import { WhipError } from './errors.ts';
import { type IceFragment, restartFragment } from './sdpFragment.ts';

/** What a PATCH answers: 204 for a trickle, 200 with an sdpfrag and a new ETag for a restart. */
export type PatchOutcome = { kind: 'trickle' } | { kind: 'restart'; etag: string; body: string };

function newEtag(): string {
  return `"${randomBytes(8).toString('hex')}"`;
}

/**
 * The ICE side of one WHIP/WHEP session (RFC 9725 §4.3): the strong entity-tag naming the
 * current ICE session, and trickle / restart PATCHes applied to its mediasoup transport.
 */
export class IceSession {
  #etag = newEtag();
  #remoteUfrag: string;
  /** Restarts run one at a time, so the last response names the credentials in force. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly transport: types.WebRtcTransport,
    remoteUfrag: string,
  ) {
    this.#remoteUfrag = remoteUfrag;
  }

  /** The entity-tag of the current ICE session (ETag of the 201 and of each restart's 200). */
  get etag(): string {
    return this.#etag;
  }

  /**
   * RFC 9110 §13.1.1 If-Match with strong comparison: "*" or a list holding the current tag.
   * Absent → 428 (RFC 9725 §4.3.1 requires it on PATCH), not matching → 412.
   */
  checkIfMatch(ifMatch: string | undefined): void {
    if (ifMatch === undefined || ifMatch.trim() === '')
      throw new WhipError(428, 'PATCH needs If-Match: the ETag of the session, or "*" for an ICE restart');
    const value = ifMatch.trim();
    if (value === '*') return;
    const tags = value.split(',').map((t) => t.trim());
    if (!tags.includes(this.#etag))
      throw new WhipError(412, 'If-Match does not name the current ICE session (it was restarted)');
  }

  patch(fragment: IceFragment): Promise<PatchOutcome> {
    const run = this.#queue.then(() => this.#apply(fragment));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #apply(fragment: IceFragment): Promise<PatchOutcome> {
    const credentials = fragment.credentials;
    // Candidates are not given to the transport: mediasoup is ICE lite, it never sends checks
    // and learns the client's address from the client's own STUN requests (RFC 8445 §2.5), so a
    // trickled candidate adds nothing it can use. The client's checks reach the candidates we
    // answered with, which never change.
    if (!credentials || credentials.ufrag === this.#remoteUfrag) return { kind: 'trickle' };
    if (this.transport.closed) throw new WhipError(404, 'the session has ended');
    // New remote credentials: an ICE restart. mediasoup's ICE-lite server keeps accepting the
    // old local credentials until a check with the new ones arrives, so media keeps flowing while
    // the client switches (and a failed restart leaves the old ICE session in place, §4.3.2).
    const ice = await this.transport.restartIce();
    this.#remoteUfrag = credentials.ufrag;
    this.#etag = newEtag();
    return {
      kind: 'restart',
      etag: this.#etag,
      body: restartFragment(fragment, ice, this.transport.iceCandidates),
    };
  }
}
