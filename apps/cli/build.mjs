// Builds the published `scanner` executable: one ESM bundle of the CLI and the workspace packages it uses, so
// that start-up reads a few files instead of resolving and evaluating over a hundred modules. Each command's
// lazy `import()` stays its own chunk (code splitting), so `scanner digest` still loads only what it needs.
// Third-party packages are bundled too, except those kept external (listed as `dependencies` in package.json):
// ioredis (only for a Redis cache), listr2 (only for `sync` progress) and re2js (loaded with `require` on the
// first RE2-syntax pattern). No source maps: they would point at sources that are not in the tarball.
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

// `node build.mjs [OUTDIR] [--from-source]`: --from-source bundles the workspace packages' TypeScript sources
// (their `@scanner/source` export condition) instead of their builds, so that a test can build the executable
// without building every package first (dist.test.ts).
const [outdir = 'dist'] = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
const fromSource = process.argv.includes('--from-source');
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: { bin: 'src/bin.ts' },
  outdir,
  bundle: true,
  format: 'esm',
  splitting: true,
  platform: 'node',
  target: 'node22',
  ...(fromSource ? { conditions: ['@scanner/source'] } : {}),
  external: ['ioredis', 'listr2', 're2js', 'undici'],
  // Bundled CommonJS (undici, semver) calls `require` for Node's built-in modules; ESM has none.
  banner: { js: "import { createRequire as __scannerCreateRequire } from 'node:module';\nconst require = __scannerCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
