/**
 * The mediasoup-client half of a session. session.ts imports this module dynamically, so a page's
 * first scripts do not carry the library (over half of what the SDK weighed): it loads while the
 * page connects and joins, and the browser's RTP capabilities are probed during the join's round
 * trip (warmUp), so that after the join answer only the matching against the router's remains.
 */
import { Device, detectDevice, type types as ms } from 'mediasoup-client';
import { Chrome74 } from 'mediasoup-client/handlers/Chrome74';
import { Chrome111 } from 'mediasoup-client/handlers/Chrome111';
import { Firefox120 } from 'mediasoup-client/handlers/Firefox120';
import { Safari12 } from 'mediasoup-client/handlers/Safari12';

type NativeDirection = ms.HandlerGetNativeRtpCapabilitiesOptions['direction'];

const BROWSER_HANDLERS = { Chrome111, Chrome74, Firefox120, Safari12 } as const;
const isBrowserHandler = (name: string): name is keyof typeof BROWSER_HANDLERS => name in BROWSER_HANDLERS;

/** undefined: not detected yet; null: not a browser we know, Device detects (and refuses) itself. */
let handlerFactory: ms.HandlerFactory | null | undefined;

/**
 * The detected browser's handler factory, with its native RTP capabilities asked once per page:
 * they are the browser's (two throwaway RTCPeerConnection offers), the same for every join.
 */
function cachingHandlerFactory(): ms.HandlerFactory | null {
  if (handlerFactory !== undefined) return handlerFactory;
  const name = typeof navigator === 'undefined' ? undefined : detectDevice();
  if (!name || !isBrowserHandler(name)) {
    handlerFactory = null;
    return null;
  }
  const base = BROWSER_HANDLERS[name].createFactory({});
  const native = new Map<NativeDirection, Promise<ms.RtpCapabilities>>();
  handlerFactory = {
    name: base.name,
    factory: base.factory,
    getNativeRtpCapabilities(options) {
      let capabilities = native.get(options.direction);
      if (!capabilities) {
        const asked = base.getNativeRtpCapabilities(options);
        capabilities = asked;
        native.set(options.direction, asked);
        // A failed probe is asked again next time rather than remembered.
        asked.catch(() => {
          if (native.get(options.direction) === asked) native.delete(options.direction);
        });
      }
      // Device.load() clones what it gets: the cached object is never changed.
      return capabilities;
    },
  };
  return handlerFactory;
}

export interface DeviceOptions {
  /**
   * The device only receives (a viewer): the browser's send capabilities are not probed (one
   * RTCPeerConnection offer fewer while joining); its receive ones stand in for them in
   * Device.load(), which asks for both, and nothing is ever sent with them.
   */
  receiveOnly?: boolean;
}

const directionsFor = ({ receiveOnly = false }: DeviceOptions) =>
  receiveOnly ? (['recvonly'] as const) : (['recvonly', 'sendonly'] as const);

/** Probes the browser's receive (and send) capabilities now, in the background. Never throws. */
export function warmUp(options: DeviceOptions = {}): void {
  try {
    const factory = cachingHandlerFactory();
    if (!factory) return;
    for (const direction of directionsFor(options)) {
      factory.getNativeRtpCapabilities({ direction }).catch(() => undefined);
    }
  } catch {
    // Detection failed: loadDevice() reports it.
  }
}

/** A Device loaded with the router's capabilities (the native ones from warmUp() when it ran). */
export async function loadDevice(
  routerRtpCapabilities: ms.RtpCapabilities,
  options: DeviceOptions = {},
): Promise<Device> {
  const cached = cachingHandlerFactory();
  const factory: ms.HandlerFactory | null =
    cached && options.receiveOnly
      ? {
          ...cached,
          getNativeRtpCapabilities: () => cached.getNativeRtpCapabilities({ direction: 'recvonly' }),
        }
      : cached;
  const device = factory ? new Device({ handlerFactory: factory }) : new Device();
  await device.load({ routerRtpCapabilities });
  return device;
}
