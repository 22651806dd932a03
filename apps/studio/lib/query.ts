/** A page's query string value (Next gives string | string[] | undefined). */
export type SearchParams = Record<string, string | string[] | undefined>;

export function param(params: SearchParams, name: string): string | undefined {
  const value = params[name];
  return Array.isArray(value) ? value[0] : value;
}

const ROOM = /^[\w.-]{1,128}$/;

export function roomParam(params: SearchParams): string {
  const room = param(params, 'room');
  return room && ROOM.test(room) ? room : 'main';
}
