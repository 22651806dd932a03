import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/**
 * The ETag S3 reports for a file uploaded in `partSize` parts: the MD5 when it fits one PUT,
 * otherwise MD5(concatenated part MD5s) + "-N". Lets HeadObject confirm the bytes, not just size.
 */
export async function expectedEtag(path: string, size: number, partSize: number): Promise<string> {
  const partHashes: Buffer[] = [];
  let part = createHash('md5');
  let inPart = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    let offset = 0;
    while (offset < chunk.length) {
      const take = Math.min(partSize - inPart, chunk.length - offset);
      part.update(chunk.subarray(offset, offset + take));
      inPart += take;
      offset += take;
      if (inPart === partSize) {
        partHashes.push(part.digest());
        part = createHash('md5');
        inPart = 0;
      }
    }
  }
  if (inPart > 0 || partHashes.length === 0) partHashes.push(part.digest());
  if (size <= partSize) return `"${partHashes[0]?.toString('hex')}"`;
  const whole = createHash('md5').update(Buffer.concat(partHashes)).digest('hex');
  return `"${whole}-${partHashes.length}"`;
}
