import { S3Client } from '@aws-sdk/client-s3';

/**
 * An S3 client for segment uploads: path-style (MinIO, moto, Ceph), short timeouts so an outage
 * is noticed in seconds, and one attempt per call — the Uploader owns retry and backoff.
 */
export function createS3Client(options: {
  endpoint?: string;
  region: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
}): S3Client {
  return new S3Client({
    region: options.region,
    ...(options.endpoint ? { endpoint: options.endpoint, forcePathStyle: true } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    maxAttempts: 1,
    requestHandler: { connectionTimeout: 2000, requestTimeout: 5000, throwOnRequestTimeout: true },
  });
}
