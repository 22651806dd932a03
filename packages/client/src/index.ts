export { randomId, stableClientId } from './clientId.ts';
export {
  colorForName,
  formatClock,
  hashString,
  PATTERN_COLORS,
  parseHexColor,
  textColorOn,
} from './colors.ts';
export { requestDirectorToken } from './directorAuth.ts';
export { Emitter, type EventMap } from './emitter.ts';
export { InvalidStateError, RequestError } from './errors.ts';
export { type FeedSpec, feedKey, producerFor, SourceFeeds } from './feeds.ts';
export {
  isQuality,
  MONITOR_LAYER,
  MULTIVIEW_LAYER,
  parseQuality,
  QUALITIES,
  QUALITY_PRESETS,
  type Quality,
  type QualityPreset,
  type SimulcastEncoding,
  simulcastEncodings,
  videoConstraints,
} from './presets.ts';
export {
  type BackoffOptions,
  BackoffReconnectPolicy,
  DEFAULT_RECONNECT_DELAYS_MS,
  type ReconnectContext,
  type ReconnectPolicy,
} from './reconnectPolicy.ts';
export {
  type ConnectionState,
  type SessionEvents,
  StudioSession,
  type StudioSessionOptions,
} from './session.ts';
export { SignalingClient, type SignalingEvents, type SignalingOptions } from './signaling.ts';
export {
  gradeVideo,
  type InboundVideoStats,
  type LinkQuality,
  readInboundAudioLevel,
  readInboundVideo,
  type StatsLike,
} from './stats.ts';
export {
  type DeviceFigures,
  framesDecodedFor,
  readDeviceFigures,
  type StatsFigures,
  type StatsSample,
  statsFigures,
  statsSample,
  TelemetryReporter,
  type TelemetryReporterOptions,
  type TelemetrySession,
  TimeCodeReader,
  videoFrames,
} from './telemetry.ts';
export {
  type CanvasTestPattern,
  createTestPattern,
  createTestTone,
  type TestPattern,
  type TestPatternOptions,
  textBox,
} from './testPattern.ts';
export { Publication, RemoteTrack } from './tracks.ts';
