import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

const root = import.meta.dirname;

// One vitest project per workspace package, named after the package, so that
// `vitest run --project @scanner/image` runs one package and `vitest run` runs all of them in one process.
function workspaceProjects() {
  const projects = [];
  for (const group of ['packages', 'apps', 'tooling']) {
    const groupDir = join(root, group);
    if (!existsSync(groupDir)) continue;
    for (const entry of readdirSync(groupDir, { withFileTypes: true })) {
      const manifest = join(groupDir, entry.name, 'package.json');
      if (!entry.isDirectory() || !existsSync(manifest)) continue;
      const { name } = JSON.parse(readFileSync(manifest, 'utf8')) as { name: string };
      projects.push({
        extends: true as const,
        test: {
          name,
          root: join(groupDir, entry.name),
          include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
        },
      });
    }
  }
  return projects;
}

export default defineConfig({
  root,
  // Workspace packages resolve to their TypeScript sources, so tests never need a build.
  resolve: { conditions: ['@scanner/source', ...defaultServerConditions] },
  ssr: { resolve: { conditions: ['@scanner/source', ...defaultServerConditions] } },
  test: {
    projects: workspaceProjects(),
    reporters: ['default', './tooling/vitest-summary.ts'],
    setupFiles: [join(root, 'tooling/vitest-network-guard.ts')],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
