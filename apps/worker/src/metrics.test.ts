import { describe, expect, it } from 'vitest';
import { createWorkerMetrics } from './metrics.ts';

describe('the worker metrics', () => {
  it('follow the Prometheus naming guide: one prefix, _total counters, base units, bounded labels', async () => {
    const metrics = createWorkerMetrics({
      tagCounts: () => Promise.resolve([{ team: 'team-a', target: 'main', result: 'failed', count: 2 }]),
      imageCounts: () => Promise.resolve([{ team: 'team-a', target: 'main', result: 'failing', count: 1 }]),
      queueCounts: () => Promise.resolve({ waiting: 3, active: 1 }),
      configFiles: () => ({ valid: 4, invalid: 1 }),
      ready: () => true,
    });
    metrics.runFinished('team-a', 'main', 'failed', 1.5);
    metrics.tagSynced('team-a', 'main', 'copied');
    metrics.bytesUploaded('team-a', 'main', 1024);
    metrics.configLoaded('failure');
    const families = await metrics.registry.getMetricsAsJSON();
    for (const family of families) {
      expect(family.name).toMatch(/^scanner_worker_[a-z0-9_]+$/);
      if (String(family.type) === 'counter') expect(family.name).toMatch(/_total$/);
      if (family.name.includes('bytes') && !family.name.startsWith('scanner_worker_nodejs') && !family.name.startsWith('scanner_worker_process')) expect(family.name).toMatch(/_bytes(_total)?$/);
      if (family.name.startsWith('scanner_worker_process') || family.name.startsWith('scanner_worker_nodejs')) continue;
      for (const value of family.values) for (const label of Object.keys(value.labels)) expect(['team', 'target', 'result', 'le']).toContain(label);
    }
    const text = await metrics.registry.metrics();
    expect(text).toContain('scanner_worker_runs_total{team="team-a",target="main",result="failed"} 1');
    expect(text).toContain('scanner_worker_run_duration_seconds_sum{team="team-a",target="main",result="failed"} 1.5');
    expect(text).toContain('scanner_worker_uploaded_bytes_total{team="team-a",target="main"} 1024');
    expect(text).toContain('scanner_worker_tags{team="team-a",target="main",result="failed"} 2');
    expect(text).toContain('scanner_worker_images{team="team-a",target="main",result="failing"} 1');
    expect(text).toContain('scanner_worker_config_files{result="invalid"} 1');
    expect(text).toContain('scanner_worker_queue_jobs 3');
    expect(text).toContain('scanner_worker_ready 1');
    expect(text).toMatch(/^scanner_worker_process_resident_memory_bytes \d+/m);
  });
});
