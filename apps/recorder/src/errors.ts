/** The media node's recorder API refused or failed a request (status and its message). */
export class NodeApiError extends Error {
  override name = 'NodeApiError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** ffmpeg could not be started or stopped unexpectedly. */
export class FfmpegError extends Error {
  override name = 'FfmpegError';
}

/** An uploaded object did not match the local file (size or ETag) on HeadObject. */
export class UploadMismatchError extends Error {
  override name = 'UploadMismatchError';
}

/** The upload journal has a line that is not ours (corrupt or foreign file). */
export class JournalError extends Error {
  override name = 'JournalError';
}
