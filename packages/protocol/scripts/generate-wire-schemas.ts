// Writes src/generated/wireSchemas.ts (the JSON Schemas clients check answers and notifications with).
import { writeFile } from 'node:fs/promises';
import { wireSchemasModule } from '../src/wireSchemaSource.ts';

const target = new URL('../src/generated/wireSchemas.ts', import.meta.url);
await writeFile(target, wireSchemasModule());
console.log(`wrote ${target.pathname}`);
