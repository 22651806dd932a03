import type { ProgramState, Transition } from '@microstudio/protocol';

/** The source the audience sees: during a fade, the one fading in. */
export function onAirSourceId(program: ProgramState | null): string | null {
  if (!program) return null;
  return program.transition?.toSourceId ?? program.programSourceId;
}

/**
 * How much of a fade is left at `now` (node and browser clocks may differ: an elapsed time outside
 * [0, duration] is treated as "just started" when negative and "finished" when past the end).
 */
export function fadeRemainingMs(transition: Transition, now: number): number {
  const elapsed = now - transition.startedAt;
  if (elapsed < 0) return transition.durationMs;
  return Math.max(0, transition.durationMs - elapsed);
}

/** Sources a monitor or viewer should keep consumed at the top layer so a cut is instant. */
export function monitorSourceIds(program: ProgramState | null): string[] {
  if (!program) return [];
  const ids = [
    program.programSourceId,
    program.previewSourceId,
    program.transition?.fromSourceId,
    program.transition?.toSourceId,
  ];
  return [...new Set(ids.filter((id): id is string => typeof id === 'string'))];
}
