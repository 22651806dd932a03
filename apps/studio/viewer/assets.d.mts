import type { IncomingMessage, ServerResponse } from 'node:http';

/** The encodings a request accepts (q > 0), from its Accept-Encoding header. */
export function acceptedEncodings(header?: string): Set<string>;

/** See assets.mjs: serves the viewer's built scripts from `dir`; false leaves the request to the caller. */
export function viewerAssetHandler(dir: string): (req: IncomingMessage, res: ServerResponse) => boolean;
