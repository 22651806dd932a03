import { type ErrorCode, errorCodes } from '@microstudio/protocol/errors';

/**
 * Every refusal a media node can answer with, in words for the person in front of the page
 * (director, camera operator, guest, viewer): what happened and what to do. A limit is named
 * with its number and the MICROSTUDIO_* variable an operator raises it with, so "the room is
 * full" can be acted on. Every place the studio shows a request error goes through errorText.
 */

/** A refused request as the client reports it (RequestError): its code and the node's message. */
interface Refusal {
  code: ErrorCode;
  message: string;
}

/**
 * The node's named limits (LimitReachedError: "<limit> limit reached (<max>)"): the setting
 * that configures each, and the sentence for it.
 */
export const limitTexts: Readonly<Record<string, { setting: string; text: (max: string) => string }>> = {
  'peers per room': {
    setting: 'MICROSTUDIO_MAX_PEERS_PER_ROOM',
    text: (max) =>
      `This room is full: ${max} people at most (MICROSTUDIO_MAX_PEERS_PER_ROOM). Try again when someone has left, or ask the operator to raise the limit.`,
  },
  'sources per room': {
    setting: 'MICROSTUDIO_MAX_SOURCES_PER_ROOM',
    text: (max) =>
      `This room takes no more cameras or guests on air: ${max} sources at most (MICROSTUDIO_MAX_SOURCES_PER_ROOM). The director can let one go to make room.`,
  },
  'guests per room': {
    setting: 'MICROSTUDIO_MAX_GUESTS_PER_ROOM',
    text: (max) =>
      `The green room is full: ${max} guests at most (MICROSTUDIO_MAX_GUESTS_PER_ROOM). The director can remove a guest to make room.`,
  },
  'producers per peer': {
    setting: 'MICROSTUDIO_MAX_PRODUCERS_PER_PEER',
    text: (max) =>
      `This device already sends ${max} tracks, the most one may (MICROSTUDIO_MAX_PRODUCERS_PER_PEER). Stop one before adding another.`,
  },
  'transports per peer': {
    setting: 'MICROSTUDIO_MAX_TRANSPORTS_PER_PEER',
    text: (max) =>
      `This page opened ${max} media connections, the most one may (MICROSTUDIO_MAX_TRANSPORTS_PER_PEER). Reload the page.`,
  },
  'consumers per peer': {
    setting: 'MICROSTUDIO_MAX_CONSUMERS_PER_PEER',
    text: (max) =>
      `This page already receives ${max} tracks, the most one may (MICROSTUDIO_MAX_CONSUMERS_PER_PEER). Close a view, or ask the operator to raise the limit.`,
  },
  'invite uses': {
    setting: 'MICROSTUDIO_MAX_INVITE_USES',
    text: (max) =>
      `An invite admits at most ${max} devices (MICROSTUDIO_MAX_INVITE_USES). Choose fewer uses, or leave the count empty for a link without a count.`,
  },
};

/** Sentences per code; `reason` is the node's own message (it names what was refused). */
const codeTexts: Readonly<Record<ErrorCode, (reason: string) => string>> = {
  BAD_REQUEST: (reason) =>
    `The media node could not read this request (BAD_REQUEST: ${reason}). Reload the page; if it persists, the page and the node are different versions.`,
  MESSAGE_TOO_LARGE: (reason) => {
    const max = /(\d+)-byte limit/.exec(reason)?.[1];
    return `This request is too large for the media node: ${max ? `${max} bytes` : 'its size limit'} at most per message (MICROSTUDIO_MAX_MESSAGE_BYTES). Reload the page; if it persists, ask the operator to raise the limit.`;
  },
  UNKNOWN_EVENT: () =>
    'The media node does not know this request (UNKNOWN_EVENT): the page and the node are different versions. Reload the page.',
  UNAUTHORIZED: (reason) =>
    `This link does not let you in: ${reason}. Ask the director for a new link (the director: open the director link again).`,
  NOT_JOINED: () => 'This page is not in the room (NOT_JOINED): wait until it is connected, or reload it.',
  ALREADY_JOINED: () => 'This page is already in the room (ALREADY_JOINED): reload it to join again.',
  FORBIDDEN: (reason) => `Your link does not allow this (FORBIDDEN: ${reason}).`,
  NOT_ADMITTED: () =>
    'The director has not let you in yet (NOT_ADMITTED): stay in the green room until you are admitted.',
  NOT_FOUND: (reason) =>
    `That is no longer in the room (NOT_FOUND: ${reason}); it may just have left. Try again.`,
  CANNOT_CONSUME: () =>
    'This browser cannot play that stream (CANNOT_CONSUME): use a current Chrome, Edge, Firefox or Safari.',
  LIMIT_REACHED: (reason) => {
    const match = /^(.+) limit reached \((\d+)\)/.exec(reason);
    const limit = match ? limitTexts[match[1] as string] : undefined;
    if (match && limit) return limit.text(match[2] as string);
    return `A limit of the media node was reached (LIMIT_REACHED: ${reason}). Ask the operator (README: Configuration).`;
  },
  RATE_LIMITED: (reason) => {
    const max = /more than (\d+) messages/.exec(reason)?.[1];
    return `This page sent too many requests at once: ${max ? `${max} per second` : 'a few per second'} at most (MICROSTUDIO_MAX_MESSAGES_PER_SECOND). Wait a moment and try again.`;
  },
  ROOM_RECOVERING: () =>
    'The room is being restored after a media server fault (ROOM_RECOVERING): it reconnects by itself in a few seconds.',
  UNAVAILABLE: () =>
    'This media node has lost its link to the studio (UNAVAILABLE): it heals by itself; try again in a few seconds.',
  INTERNAL: () =>
    "The media node failed unexpectedly (INTERNAL): try again; if it persists, the operator finds the details in the node's log.",
  TIMEOUT: () =>
    'The media node did not answer in time (TIMEOUT): check the network connection and try again.',
};

const isErrorCode = (value: unknown): value is ErrorCode =>
  typeof value === 'string' && (errorCodes as readonly string[]).includes(value);

/** The node's message of a refusal: the client's RequestError reads "<request> failed: CODE: msg". */
function refusalOf(error: unknown): Refusal | null {
  if (typeof error !== 'object' || error === null || !('code' in error)) return null;
  const { code } = error;
  if (!isErrorCode(code)) return null;
  const text = error instanceof Error ? error.message : '';
  const at = text.indexOf(`${code}: `);
  return { code, message: at >= 0 ? text.slice(at + code.length + 2) : text };
}

/** A refusal's code and the node's message in words. */
export function refusalText(code: ErrorCode, message: string): string {
  return codeTexts[code](message.replace(/[.\s]+$/, ''));
}

/**
 * Anything a request or a page action threw, for the page's alert: a node's refusal in words;
 * other errors (already written for people, e.g. "This link has no camera invite…") as they are.
 */
export function errorText(error: unknown): string {
  const refusal = refusalOf(error);
  if (refusal) return refusalText(refusal.code, refusal.message);
  return error instanceof Error ? error.message : String(error);
}
