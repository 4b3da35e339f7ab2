import { assembleMirrorConfig, parseTargetsFile, parseTeamFile } from '@scanner/sync';
import type { MirrorConfig } from '@scanner/sync';
import { describe, expect, it } from 'vitest';
import { jobId } from './job.ts';
import { buildStatus, imageSelection } from './status.ts';
import type { StatusDocument } from './status.ts';
import type { RunRecord } from './status-store.ts';

function configOf(tags: string): MirrorConfig {
  const targets = parseTargetsFile('targets:\n  - name: main\n    registry: mirror.example.io\n', 'targets.yaml');
  const team = parseTeamFile(`owner: team-db\nimages:\n  - source: docker.io/library/postgres\n    tags:\n      - names: [${tags}]\n`, 'team-db.yaml');
  if (!targets.ok || !team.ok) throw new Error('fixture config invalid');
  return assembleMirrorConfig('/config', targets.value, [team.value]).config;
}

function recordFor(config: MirrorConfig): RunRecord {
  const image = config.images[0]!;
  return {
    imageId: image.id,
    targetName: 'main',
    repository: 'mirror.example.io/library/postgres',
    selection: imageSelection(image, config.targets[0]!),
    startedAt: '2026-11-29T20:00:00.000Z',
    finishedAt: '2026-11-29T20:00:01.000Z',
    result: 'succeeded',
    upToDate: ['16.1'],
    missing: [],
    failed: [],
    lastError: null,
    failingSince: null,
    lastSuccessAt: '2026-11-29T20:00:01.000Z',
  };
}

function statusOf(config: MirrorConfig, record: RunRecord): StatusDocument {
  const image = config.images[0]!;
  return buildStatus({
    now: Date.parse('2026-11-29T20:05:00.000Z'),
    ready: true,
    queue: { kind: 'memory', waiting: 1, active: 0 },
    dir: '/config',
    config,
    files: [],
    records: new Map([[jobId({ imageId: image.id, targetName: 'main' }), record]]),
    nextRunMs: () => undefined,
  });
}

describe('buildStatus', () => {
  it('shows an image whose selection changed since its last run as pending, not up to date, until it is planned again', () => {
    const before = configOf("'16.1'");
    const after = configOf("'16.1', '16.2'");
    expect(before.images[0]?.id).toBe(after.images[0]?.id);
    const record = recordFor(before);
    expect(statusOf(before, record).teams[0]?.images[0]?.targets[0]?.state).toBe('up_to_date');
    const reloaded = statusOf(after, record);
    expect(reloaded.teams[0]?.images[0]?.targets[0]?.state).toBe('pending');
    expect(reloaded.teams[0]?.state).toBe('pending');
    // Planned again under the new selection: its own state again.
    expect(statusOf(after, recordFor(after)).teams[0]?.images[0]?.targets[0]?.state).toBe('up_to_date');
  });

  it('lists no team for the file-level owner of a valid file whose every image names another owner', () => {
    const config = configOf("'16.1'");
    const file = (owner: string, valid: boolean) => ({ file: 'team-db.yaml', kind: 'team' as const, owner, valid, issues: [], invalidSince: null, inForce: true });
    const input = { now: 0, ready: true, queue: { kind: 'memory' as const, waiting: 0, active: 0 }, dir: '/config', config, records: new Map<string, RunRecord>(), nextRunMs: () => undefined };
    expect(buildStatus({ ...input, files: [file('team-db', true), file('platform', true)] }).teams.map((team) => team.owner)).toEqual(['team-db']);
    // An invalid file is shown under its owner even without images: its problem must be seen.
    expect(buildStatus({ ...input, files: [file('team-db', true), file('platform', false)] }).teams.map((team) => team.owner)).toEqual(['platform', 'team-db']);
  });
});
