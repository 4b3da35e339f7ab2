#!/usr/bin/env node
// Checks the tarball `npm pack` would publish for the package in the working directory: a LICENSE file, every
// source map and declaration map pointing only at packed files, and every `exports` target (every condition,
// `@scanner/source` included), `main`, `types` and `bin` packed. Run after `build` (it is part of `lint`).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';

const manifest = JSON.parse(readFileSync('package.json', 'utf8'));
const [pack] = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
const packed = new Set(pack.files.map((file) => normalize(file.path)));
const problems = [];

if (!packed.has('LICENSE')) problems.push('no LICENSE file in the tarball');

const targets = [];
const walk = (value, where) => {
  if (typeof value === 'string') targets.push([value, where]);
  else if (value !== null && typeof value === 'object') for (const [key, inner] of Object.entries(value)) walk(inner, `${where}.${key}`);
};
walk(manifest.exports, 'exports');
for (const key of ['main', 'types', 'module']) if (typeof manifest[key] === 'string') targets.push([manifest[key], key]);
walk(typeof manifest.bin === 'string' ? { [manifest.name]: manifest.bin } : manifest.bin, 'bin');
for (const [target, where] of targets) {
  if (!packed.has(normalize(target))) problems.push(`${where} points at ${target}, which is not packed`);
}

for (const file of packed) {
  if (!file.endsWith('.map')) continue;
  const map = JSON.parse(readFileSync(file, 'utf8'));
  for (const source of map.sources ?? []) {
    const resolved = normalize(join(dirname(file), map.sourceRoot ?? '', source));
    if (!packed.has(resolved)) problems.push(`${file} maps to ${resolved}, which is not packed`);
  }
}

if (problems.length > 0) {
  console.error(`${manifest.name}: the tarball is not fit to publish:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`${manifest.name}: ${packed.size} files packed; LICENSE, maps and exports targets all present`);
