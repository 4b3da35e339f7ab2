// Builds the published `scanner` executable into dist/:
// - cli.cjs: one CommonJS bundle of the CLI (src/run.ts) and the workspace packages it uses. Each command's
//   lazy `import()` stays lazy inside it (esbuild wraps those modules in functions run on first import), so
//   `scanner digest` evaluates only what it needs. One file, because launch.ts keeps one V8 code cache of it
//   per command (see there).
// - vendor/*.cjs: zod, yaml, semver and listr2, one file each (see VENDORED).
// - bin.cjs: the launcher (src/launch.ts), which runs cli.cjs with that cache.
// Third-party packages listed as `dependencies` in package.json stay external, loaded with `require`: undici
// (by file path, which a bundle cannot follow), ioredis (only for a Redis cache) and re2js (on the first
// RE2-syntax pattern). No source maps: they would point at sources that are not in the tarball.
import { createHash } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { build } from 'esbuild';

// `node build.mjs [OUTDIR] [--from-source]`: --from-source bundles the workspace packages' TypeScript sources
// (their `@scanner/source` export condition) instead of their builds, so that a test can build the executable
// without building every package first (dist.test.ts).
const [outdir = 'dist'] = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
const fromSource = process.argv.includes('--from-source');
rmSync(outdir, { recursive: true, force: true });

const common = {
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node22',
  ...(fromSource ? { conditions: ['@scanner/source'] } : {}),
  // The sources are ESM; in CommonJS, `import.meta.url` is the file's URL, made once per file.
  define: { 'import.meta.url': '__scannerFileUrl' },
  banner: { js: 'var __scannerFileUrl = require("node:url").pathToFileURL(__filename).href;' },
  // Whitespace and syntax only, so that function names stay in --debug stacks: the launcher reads and decodes
  // the whole bundle in every run, and a third less of it was about 4 ms of `scanner digest`.
  minifyWhitespace: true,
  minifySyntax: true,
  // ASCII only (non-ASCII escaped, regular expressions too), so that the launcher can read it as latin1: a
  // UTF-8 decode of the whole bundle was about 4 ms of every run.
  charset: 'ascii',
  logLevel: 'warning',
};
// Third-party libraries the CLI bundles are built apart, one CommonJS file each in dist/vendor/, and loaded
// with `require` where first used: zod alone was 43% of a single bundle, which the launcher reads and V8 sets
// up in every run, though `scanner digest` never needs it. (No shared state crosses these files: they are
// libraries of functions and classes, each loaded once.) Node's compile cache serves them.
// Each is resolved from the package that depends on it (pnpm gives a package only its own dependencies).
const VENDORED = {
  zod: { kind: 'esm', from: '../../packages/registry' },
  yaml: { kind: 'esm', from: '../../packages/registry' },
  listr2: { kind: 'esm', from: '.' },
  semver: { kind: 'cjs', from: '../../packages/version' },
};
for (const [name, { kind, from }] of Object.entries(VENDORED)) {
  await build({
    ...common,
    stdin: { contents: kind === 'esm' ? `export * from '${name}';` : `module.exports = require('${name}');`, resolveDir: resolve(from), loader: 'js' },
    outfile: `${outdir}/vendor/${name}.cjs`,
  });
}
const vendored = {
  name: 'vendored',
  setup(context) {
    const names = Object.keys(VENDORED).join('|');
    context.onResolve({ filter: new RegExp(`^(${names})$`) }, (args) => ({ path: `./vendor/${args.path}.cjs`, external: true }));
  },
};
const cli = await build({
  ...common,
  entryPoints: ['src/run.ts'],
  outfile: `${outdir}/cli.cjs`,
  external: ['ioredis', 're2js', 'undici'],
  plugins: [vendored],
  // `import()` becomes `require()`: the bundle runs in `vm.Script`, where `import()` needs an experimental loader.
  supported: { 'dynamic-import': false },
  metafile: true,
});
const dynamic = Object.values(cli.metafile.outputs).flatMap((output) => output.imports.filter((entry) => entry.kind === 'dynamic-import').map((entry) => entry.path));
if (dynamic.length > 0) throw new Error(`build.mjs: cli.cjs must not import() anything (launch.ts runs it in vm.Script); found ${dynamic.join(', ')}`);
for (const file of ['cli.cjs', ...Object.keys(VENDORED).map((name) => `vendor/${name}.cjs`)]) {
  if (/[^\x00-\x7f]/.test(readFileSync(`${outdir}/${file}`, 'latin1'))) throw new Error(`build.mjs: ${file} must be ASCII (launch.ts reads it as latin1)`);
}
// The launcher keys its code caches by a hash of what it runs, so that another build's cache is never used.
const hash = createHash('sha256');
for (const file of ['cli.cjs', ...Object.keys(VENDORED).map((name) => `vendor/${name}.cjs`)]) hash.update(readFileSync(`${outdir}/${file}`));
const buildId = hash.digest('hex').slice(0, 16);
await build({ ...common, entryPoints: ['src/launch.ts'], outfile: `${outdir}/bin.cjs`, define: { ...common.define, SCANNER_BUILD_ID: JSON.stringify(buildId) } });
