import type { S3Client } from '@aws-sdk/client-s3';

/** Longest sentence a status carries (RecorderStatus `message`s are at most 500 characters). */
const MAX_LENGTH = 500;

/** Socket-level failures: the storage could not be reached at all. */
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'EPIPE',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
]);

/** Codes S3 (and MinIO, Ceph, moto) answer when it will not accept who we are or what we may do. */
const REFUSED = new Set([
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'AccessDenied',
  'AllAccessDisabled',
  'InvalidToken',
  'ExpiredToken',
  'TokenRefreshRequired',
  'InvalidClientTokenId',
  'AuthorizationHeaderMalformed',
  'Forbidden',
]);

/** What the SDK puts on an error (service exceptions, smithy transport errors, Node socket errors). */
interface ErrorLike {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  Code?: unknown;
  errno?: unknown;
  cause?: unknown;
  errors?: unknown;
  $metadata?: { httpStatusCode?: number };
}

const asErrorLike = (value: unknown): ErrorLike | undefined =>
  typeof value === 'object' && value !== null ? (value as ErrorLike) : undefined;

const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value.length > 0 ? value : undefined;

/** The socket error code of an error, its cause or (Node's happy eyeballs) any of its attempts. */
function socketCode(error: ErrorLike, depth = 0): string | undefined {
  const code = text(error.code);
  if (code && UNREACHABLE.has(code)) return code;
  if (text(error.name) === 'TimeoutError') return code ?? 'timeout';
  if (depth > 3) return undefined;
  const nested = [error.cause, ...(Array.isArray(error.errors) ? error.errors : [])];
  for (const inner of nested) {
    const e = asErrorLike(inner);
    const found = e && socketCode(e, depth + 1);
    if (found) return found;
  }
  return undefined;
}

/**
 * The S3 error code: the service's (`Code`, or the exception's name), unless the SDK had none to
 * give (a HEAD response has no body: `Unknown`/`UnknownError`, or just `NotFound`/`Forbidden`).
 */
function serviceCode(error: ErrorLike): string | undefined {
  const code = text(error.Code) ?? text(error.name);
  if (!code || code === 'Error' || code === 'Unknown' || code === 'UnknownError') return undefined;
  return code;
}

const clip = (sentence: string): string =>
  sentence.length > MAX_LENGTH ? `${sentence.slice(0, MAX_LENGTH - 1)}…` : sentence;

/**
 * Turns an AWS SDK v3 error (or any thrown value) from an upload into one sentence a director can
 * act on, naming the bucket and the endpoint: a missing bucket, refused credentials, storage that
 * cannot be reached, or else the service's code and message. For the control room's status and
 * the log; at most 500 characters.
 */
export function describeStorageError(error: unknown, where: { bucket: string; endpoint: string }): string {
  const { bucket, endpoint } = where;
  const e = asErrorLike(error);
  if (!e) return clip(`storage error at ${endpoint} (bucket "${bucket}"): ${String(error)}`);
  const status = e.$metadata?.httpStatusCode;
  const code = serviceCode(e);
  const message = text(e.message);
  const detail = message && message !== 'UnknownError' && message !== code ? `: ${message}` : '';

  if (code === 'NoSuchBucket') return clip(`bucket "${bucket}" does not exist at ${endpoint}`);
  if (code === 'CredentialsProviderError')
    return clip(
      `no storage credentials for bucket "${bucket}" at ${endpoint}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY${detail}`,
    );

  const unreachable = status === undefined ? socketCode(e) : undefined;
  if (unreachable) {
    const reason =
      unreachable === 'ECONNREFUSED'
        ? 'connection refused'
        : unreachable === 'ENOTFOUND' || unreachable === 'EAI_AGAIN'
          ? 'host name not found'
          : unreachable === 'ETIMEDOUT' || unreachable === 'timeout' || unreachable.includes('TIMEOUT')
            ? 'no answer in time'
            : unreachable === 'ECONNRESET' || unreachable === 'EPIPE'
              ? 'connection dropped'
              : 'network unreachable';
    return clip(`storage unreachable at ${endpoint}: ${reason} (${unreachable})`);
  }

  if ((code && REFUSED.has(code)) || status === 401 || status === 403) {
    const what = code ?? `HTTP ${status}`;
    return clip(
      `storage at ${endpoint} refused the credentials for bucket "${bucket}" (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, or the key's permissions): ${what}${detail}`,
    );
  }

  const what = code ?? (status !== undefined ? `HTTP ${status}` : 'error');
  return clip(`storage error at ${endpoint} (bucket "${bucket}"): ${what}${detail}`);
}

/** Where a client sends its requests, for messages: its endpoint URL, or AWS S3 and the region. */
export async function storageEndpoint(client: S3Client): Promise<string> {
  try {
    const endpoint = await client.config.endpoint?.();
    if (endpoint) {
      const port = endpoint.port ? `:${endpoint.port}` : '';
      const path = endpoint.path && endpoint.path !== '/' ? endpoint.path : '';
      return `${endpoint.protocol}//${endpoint.hostname}${port}${path}`;
    }
    return `AWS S3 (${await client.config.region()})`;
  } catch {
    return 'AWS S3';
  }
}
