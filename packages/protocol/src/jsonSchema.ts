/**
 * A JSON Schema (2020-12) checker for the subset of keywords the protocol's schemas compile to
 * (wireSchemaSource.ts emits them; it refuses any other keyword). Browsers check what nodes send
 * with it instead of zod: zod and the schemas take ~65 ms of a cold page's main thread to load,
 * this and the compiled schemas a few (docs/benchmarks.md, join). No eval, so no CSP exception.
 *
 * Semantics follow zod's, which the schemas come from (test/wire.test.ts checks that both agree
 * on generated and mutated messages): string lengths count UTF-16 code units, numbers must be
 * finite, and properties a schema does not name are allowed (zod strips them; this leaves them).
 */

export type JsonSchema = boolean | JsonSchemaObject;

export interface JsonSchemaObject {
  $schema?: string;
  type?: JsonType | JsonType[];
  const?: unknown;
  enum?: unknown[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: JsonSchema;
  propertyNames?: JsonSchema;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
}

export type JsonType = 'null' | 'boolean' | 'object' | 'array' | 'number' | 'integer' | 'string';

/** Every keyword this checker understands; a schema using another one is refused, not half-checked. */
export const SUPPORTED_KEYWORDS: ReadonlySet<string> = new Set([
  '$schema',
  'type',
  'const',
  'enum',
  'anyOf',
  'oneOf',
  'properties',
  'required',
  'additionalProperties',
  'propertyNames',
  'items',
  'minItems',
  'maxItems',
  'minLength',
  'maxLength',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
]);

/** Keywords whose value is a map of names to schemas, or a schema, or a list of schemas. */
const SCHEMA_MAPS = new Set(['properties']);
const SCHEMA_VALUES = new Set(['additionalProperties', 'propertyNames', 'items']);
const SCHEMA_LISTS = new Set(['anyOf', 'oneOf']);

/** The keywords in `schema` (and every schema inside it) this checker does not understand. */
export function unsupportedKeywords(schema: JsonSchema, path = '#'): string[] {
  if (typeof schema === 'boolean') return [];
  const found: string[] = [];
  for (const [keyword, value] of Object.entries(schema)) {
    if (!SUPPORTED_KEYWORDS.has(keyword)) found.push(`${path}/${keyword}`);
    else if (SCHEMA_MAPS.has(keyword))
      for (const [name, inner] of Object.entries(value as Record<string, JsonSchema>))
        found.push(...unsupportedKeywords(inner, `${path}/${keyword}/${name}`));
    else if (SCHEMA_VALUES.has(keyword))
      found.push(...unsupportedKeywords(value as JsonSchema, `${path}/${keyword}`));
    else if (SCHEMA_LISTS.has(keyword))
      (value as JsonSchema[]).forEach((inner, i) => {
        found.push(...unsupportedKeywords(inner, `${path}/${keyword}/${i}`));
      });
  }
  return found;
}

/** The schema under `name` in a map of schemas, never one inherited from Object.prototype. */
export const ownSchema = (table: Record<string, JsonSchema>, name: string): JsonSchema | undefined =>
  Object.hasOwn(table, name) ? table[name] : undefined;

/** The schemas of an object schema's named properties (none for `true` or `false`). */
export const propertiesOf = (schema: JsonSchema): Record<string, JsonSchema> =>
  (typeof schema === 'object' && schema.properties) || {};

/** A JSON object: not null, not an array. */
export const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function typeMatches(type: JsonType, value: unknown): boolean {
  switch (type) {
    case 'null':
      return value === null;
    case 'boolean':
      return typeof value === 'boolean';
    case 'object':
      return isObject(value);
    case 'array':
      return Array.isArray(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'string':
      return typeof value === 'string';
  }
}

/** Equality of JSON values (const, enum). */
function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((item, i) => jsonEqual(item, b[i]));
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a);
    return (
      keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k], b[k]))
    );
  }
  return false;
}

const describeValue = (value: unknown) =>
  value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;

/**
 * Checks `value` against `schema`. Returns null when it conforms, else where and why it does not
 * (the first failure found, e.g. `/data/room/sources/0/name: longer than 64`).
 */
export function checkJsonSchema(schema: JsonSchema, value: unknown, path = ''): string | null {
  if (schema === true) return null;
  if (schema === false) return `${path || '/'}: not allowed`;
  const at = path || '/';
  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? schema.type : [schema.type];
    if (!types.some((type) => typeMatches(type, value)))
      return `${at}: expected ${types.join(' or ')}, got ${describeValue(value)}`;
  }
  if ('const' in schema && !jsonEqual(schema.const, value))
    return `${at}: expected ${JSON.stringify(schema.const)}`;
  if (schema.enum && !schema.enum.some((option) => jsonEqual(option, value)))
    return `${at}: not one of ${schema.enum.map((option) => JSON.stringify(option)).join(', ')}`;
  if (typeof value === 'string') {
    if (schema.minLength !== undefined && value.length < schema.minLength)
      return `${at}: shorter than ${schema.minLength}`;
    if (schema.maxLength !== undefined && value.length > schema.maxLength)
      return `${at}: longer than ${schema.maxLength}`;
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) return `${at}: below ${schema.minimum}`;
    if (schema.maximum !== undefined && value > schema.maximum) return `${at}: above ${schema.maximum}`;
    if (schema.exclusiveMinimum !== undefined && value <= schema.exclusiveMinimum)
      return `${at}: not above ${schema.exclusiveMinimum}`;
    if (schema.exclusiveMaximum !== undefined && value >= schema.exclusiveMaximum)
      return `${at}: not below ${schema.exclusiveMaximum}`;
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems)
      return `${at}: fewer than ${schema.minItems} items`;
    if (schema.maxItems !== undefined && value.length > schema.maxItems)
      return `${at}: more than ${schema.maxItems} items`;
    if (schema.items !== undefined) {
      for (let i = 0; i < value.length; i++) {
        const failure = checkJsonSchema(schema.items, value[i], `${path}/${i}`);
        if (failure) return failure;
      }
    }
  }
  if (isObject(value)) {
    const failure = checkObject(schema, value, path);
    if (failure) return failure;
  }
  if (schema.anyOf && !schema.anyOf.some((option) => checkJsonSchema(option, value, path) === null))
    return `${at}: matches none of its ${schema.anyOf.length} forms`;
  if (schema.oneOf) {
    const failures = schema.oneOf.map((option) => checkJsonSchema(option, value, path));
    const matched = failures.filter((failure) => failure === null).length;
    if (matched !== 1) {
      // The form that failed deepest is the one the sender meant: say why that one failed.
      const depth = (failure: string) => failure.slice(0, failure.indexOf(': ')).split('/').length;
      const deepest = failures.reduce<string | null>(
        (best, failure) => (failure && (!best || depth(failure) > depth(best)) ? failure : best),
        null,
      );
      return matched === 0
        ? (deepest ?? `${at}: matches none of its forms`)
        : `${at}: matches ${matched} of its forms`;
    }
  }
  return null;
}

function checkObject(schema: JsonSchemaObject, value: Record<string, unknown>, path: string): string | null {
  // A property set to undefined cannot come off the wire (JSON has no undefined): it counts as
  // absent, as zod counts it for an optional property.
  for (const name of schema.required ?? []) {
    if (value[name] === undefined || !Object.hasOwn(value, name)) return `${path}/${name}: missing`;
  }
  const properties = schema.properties ?? {};
  for (const [name, item] of Object.entries(value)) {
    if (item === undefined) continue;
    if (schema.propertyNames !== undefined) {
      const failure = checkJsonSchema(schema.propertyNames, name, `${path}/${name} (name)`);
      if (failure) return failure;
    }
    const named = ownSchema(properties, name);
    const inner = named ?? schema.additionalProperties;
    if (inner === undefined) continue;
    const failure = checkJsonSchema(inner, item, `${path}/${name}`);
    if (failure) return failure;
  }
  return null;
}
