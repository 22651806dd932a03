/**
 * Something the person rendering has to fix (no such show, no cut list, a bad line, nothing
 * recorded): the CLI prints its message alone, without a stack.
 */
export class RenderError extends Error {
  override name = 'RenderError';
}
