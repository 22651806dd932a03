import type { ProgramState, RoomSnapshot } from '@microstudio/protocol';

/** Sources whose picture is on air now: program, and both sides of a running fade. */
export function programSourceIds(program: ProgramState | null): string[] {
  if (!program) return [];
  const ids = [program.programSourceId, program.transition?.fromSourceId, program.transition?.toSourceId];
  return [...new Set(ids.filter((id): id is string => typeof id === 'string'))];
}

/**
 * Mix-minus for a guest: the microphones it hears. Every on-air voice — the program's sources and
 * every admitted guest (guests talk with each other whoever is on program) — except its own, so
 * a guest never hears itself come back delayed. `self` is the guest's own source id.
 */
export function mixMinusSourceIds(
  room: RoomSnapshot | null,
  program: ProgramState | null,
  self: string,
  admitted: boolean,
): string[] {
  const ids = new Set(programSourceIds(program));
  // A waiting guest may only receive the program (the node refuses the rest).
  if (admitted) for (const source of room?.sources ?? []) if (source.guest) ids.add(source.sourceId);
  ids.delete(self);
  return [...ids].filter((id) =>
    room ? room.sources.some((s) => s.sourceId === id && s.tracks.some((t) => t.purpose === 'mic')) : false,
  );
}
