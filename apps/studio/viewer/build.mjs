// Builds the /watch page's script (viewer/main.ts) into public/viewer/, before `next build`:
// one ES module for the page plus the chunks it loads later (mediasoup-client during the join),
// content-hashed, and a manifest app/watch/route.ts reads to write the page.
import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import { build } from 'esbuild';

const appDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(appDir, 'public', 'viewer');

/**
 * zod exports every one of its ~40 message locales through its namespace object, which esbuild
 * cannot drop (Next's bundler does): ~250 KB of a viewer's script. Nothing here switches zod's
 * language, so its locale index gives English only (the locale zod configures by default).
 */
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      args.importer.includes(`${join('node_modules', 'zod')}`)
        ? { path: join(dirname(args.importer), '..', 'locales', 'en.js'), namespace: 'zod-locales' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => ({
      contents: `export { default as en } from ${JSON.stringify(args.path)};`,
      resolveDir: dirname(args.path),
    }));
  },
};

await rm(outdir, { recursive: true, force: true });
await mkdir(outdir, { recursive: true });
const result = await build({
  entryPoints: { watch: join(appDir, 'viewer', 'main.ts') },
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'browser',
  target: ['chrome111', 'firefox120', 'safari16'],
  minify: true,
  sourcemap: 'linked',
  outdir,
  entryNames: '[name]-[hash]',
  chunkNames: 'chunk-[hash]',
  define: { 'process.env.NODE_ENV': '"production"' },
  // V8's explicit compile hint (Chromium 136+; a comment elsewhere): every function of these
  // files is compiled while they download, off the main thread, instead of when first called on
  // it during the join (mediasoup-client's ~230 KB, most of it run while joining).
  banner: { js: '//# allFunctionsCalledOnLoad' },
  metafile: true,
  plugins: [zodEnglishOnly],
  logLevel: 'warning',
});

const url = (file) => `/${relative(join(appDir, 'public'), join(appDir, file)).split('\\').join('/')}`;
const outputs = Object.entries(result.metafile.outputs).filter(([file]) => file.endsWith('.js'));
const entry = outputs.find(([, output]) => output.entryPoint);
if (!entry) throw new Error('viewer build: no entry output');
/**
 * What the first frame needs besides the entry: the chunks it imports statically and the one it
 * imports during the join (mediasoup-client, packages/client/src/device.ts), with theirs.
 * Preloaded, the browser fetches them while it runs the entry. A chunk wanted only later is left
 * to load when asked for: preloading costs the page's thread.
 */
const FIRST_FRAME_IMPORTS = [join('packages', 'client', 'src', 'device.ts')];
const byFile = new Map(outputs);
const needed = new Set();
const need = (file) => {
  if (needed.has(file) || !byFile.has(file)) return;
  needed.add(file);
  for (const imported of byFile.get(file).imports) {
    if (imported.kind === 'import-statement') need(imported.path);
  }
};
need(entry[0]);
for (const [file, output] of outputs) {
  if (output.entryPoint && FIRST_FRAME_IMPORTS.some((path) => output.entryPoint.endsWith(path))) need(file);
}
if (needed.size < 2) throw new Error('viewer build: found no chunk for mediasoup-client (device.ts)');
const chunks = [...needed].filter((file) => file !== entry[0]).map(url);
// Compressed once here, served as they are (viewer/assets.mjs): no compression per request.
const brotli = promisify(brotliCompress);
const gzipped = promisify(gzip);
await Promise.all(
  outputs.map(async ([file]) => {
    const body = await readFile(join(appDir, file));
    const params = {
      [constants.BROTLI_PARAM_QUALITY]: 11,
      [constants.BROTLI_PARAM_SIZE_HINT]: body.byteLength,
    };
    await writeFile(join(appDir, `${file}.br`), await brotli(body, { params }));
    await writeFile(join(appDir, `${file}.gz`), await gzipped(body, { level: 9 }));
  }),
);
// The stylesheet the React pages use (plain CSS), inlined into the page by the route.
await copyFile(join(appDir, 'app', 'globals.css'), join(outdir, 'watch.css'));
await writeFile(
  join(outdir, 'manifest.json'),
  `${JSON.stringify({ script: url(entry[0]), chunks, stylesheet: 'watch.css' }, null, 2)}\n`,
);
const bytes = outputs.reduce((sum, [, output]) => sum + output.bytes, 0);
console.log(
  `viewer: ${url(entry[0])} + ${outputs.length - 1} chunk(s) (${chunks.length} preloaded), ${Math.round(bytes / 1024)} KB`,
);
