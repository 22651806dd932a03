/**
 * `?ice=relay` on a page's URL: the media transports use only the TURN relays the node hands
 * out (RTCIceTransportPolicy `relay`): for a network where only TURN gets through, and for the
 * relay end-to-end test. Anything else: the browser's default (every candidate).
 */
export function icePolicyFromUrl(): { iceTransportPolicy?: RTCIceTransportPolicy } {
  return new URLSearchParams(window.location.search).get('ice') === 'relay'
    ? { iceTransportPolicy: 'relay' }
    : {};
}
