// What `scanner plan` and `scanner sync` print: the stable JSON documents and the tables grouped by team and
// target. Pure functions of the plan and the report of `@scanner/sync` (types only, so nothing loads here).
import type { Plan, PlanAction, PlanError, PlanItem, PlanRepository, SyncItem, SyncReport, SyncResult, SyncStats } from '@scanner/sync';
import { formatTable, shortDigest } from './output.ts';

/** One item of `scanner plan -o json`: the fields of issue 8, in this order. */
export interface PlanItemJson {
  readonly owner: string;
  readonly targetName: string;
  readonly source: string;
  readonly target: string;
  readonly action: PlanAction;
  readonly sourceDigest: string | null;
  readonly targetDigest: string | null;
}

/** One error of `scanner plan -o json` / `scanner sync -o json`: an (image, target) that could not be planned or failed as a whole. */
export interface PlanErrorJson {
  readonly owner: string;
  readonly source: string;
  readonly targetName: string;
  readonly code: string;
  readonly message: string;
}

/** A target repository the plan writes to; `exists: false` means some registries (Harbor, ECR) need it created first. */
export interface PlanRepositoryJson {
  readonly targetName: string;
  readonly repository: string;
  readonly exists: boolean;
}

/**
 * `scanner plan -o json`. `items` and `errors` are the stable document of issue 8; `repositories` and `pulls`
 * are additions (manifest GETs the sync will make per source registry, a lower bound for multi-platform images).
 */
export interface PlanJson {
  readonly items: readonly PlanItemJson[];
  readonly errors: readonly PlanErrorJson[];
  readonly repositories: readonly PlanRepositoryJson[];
  readonly pulls: Readonly<Record<string, number>>;
}

/** One item of `scanner sync -o json`: the plan's item, with what happened to it. */
export interface SyncItemJson extends PlanItemJson {
  readonly result: SyncResult;
  readonly error: { readonly code: string; readonly message: string } | null;
}

/** `scanner sync -o json`. `stats` counts the whole run (every target). */
export interface SyncJson {
  readonly items: readonly SyncItemJson[];
  readonly errors: readonly PlanErrorJson[];
  readonly stats: SyncStats;
}

function itemJson(item: PlanItem): PlanItemJson {
  return {
    owner: item.owner,
    targetName: item.targetName,
    source: item.source,
    target: item.target,
    action: item.action,
    sourceDigest: item.sourceDigest,
    targetDigest: item.targetDigest,
  };
}

function errorJson(error: PlanError): PlanErrorJson {
  return { owner: error.owner, source: error.source, targetName: error.targetName, code: error.code, message: error.message };
}

/** The plan as its JSON document (only the documented fields, in a fixed order). */
export function planJson(plan: Plan): PlanJson {
  return {
    items: plan.items.map(itemJson),
    errors: plan.errors.map(errorJson),
    repositories: plan.repositories.map((repository) => ({ targetName: repository.targetName, repository: repository.repository, exists: repository.exists })),
    pulls: { ...plan.pulls },
  };
}

/** The sync report as its JSON document. */
export function syncJson(report: SyncReport): SyncJson {
  return {
    items: report.items.map((item) => ({ ...itemJson(item), result: item.result, error: item.error === null ? null : { code: item.error.code, message: item.error.message } })),
    errors: report.errors.map(errorJson),
    stats: report.stats,
  };
}

/** Items of one team at one target, with what they write. */
interface Group<Item extends PlanItem> {
  readonly owner: string;
  readonly targetName: string;
  readonly items: Item[];
  readonly errors: PlanError[];
}

function groupKey(owner: string, targetName: string): string {
  return `${owner}\u0000${targetName}`;
}

/** Items and errors by (owner, target name), in the plan's order (which sorts by owner, then target). */
function groups<Item extends PlanItem>(items: readonly Item[], errors: readonly PlanError[]): Group<Item>[] {
  const byKey = new Map<string, Group<Item>>();
  const groupOf = (owner: string, targetName: string): Group<Item> => {
    const key = groupKey(owner, targetName);
    let group = byKey.get(key);
    if (group === undefined) {
      group = { owner, targetName, items: [], errors: [] };
      byKey.set(key, group);
    }
    return group;
  };
  for (const item of items) groupOf(item.owner, item.targetName).items.push(item);
  for (const error of errors) groupOf(error.owner, error.targetName).errors.push(error);
  return [...byKey.values()].sort((a, b) => compare(a.owner, b.owner) || compare(a.targetName, b.targetName));
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The repository part of a target reference (`host/path` of `host/path:tag`). */
function repositoryOf(reference: string): string {
  const at = reference.indexOf('@');
  const withoutDigest = at === -1 ? reference : reference.slice(0, at);
  const colon = withoutDigest.lastIndexOf(':');
  return colon > withoutDigest.lastIndexOf('/') ? withoutDigest.slice(0, colon) : withoutDigest;
}

function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

/** Bytes for people: `0 B`, `512 B`, `1.5 KiB`, `12.0 MiB`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit] ?? ''}`;
}

function pullsLine(title: string, pulls: Readonly<Record<string, number>> | undefined): string {
  const entries = Object.entries(pulls ?? {}).filter(([, count]) => count > 0);
  if (entries.length === 0) return `${title}: none\n`;
  return `${title}:\n${formatTable(entries.map(([registry, count]) => ['', registry, String(count)]))}`;
}

function missingLines(group: Group<PlanItem>, missing: ReadonlyMap<string, PlanRepository>): string {
  const repositories = new Set(group.items.map((item) => repositoryOf(item.target)).filter((repository) => missing.has(`${group.targetName}\u0000${repository}`)));
  return [...repositories]
    .sort()
    .map((repository) => `  ! ${repository} does not exist yet: create it first where the registry requires it (Harbor projects, ECR, Aliyun)\n`)
    .join('');
}

function errorLines(errors: readonly PlanError[]): string {
  return errors.map((error) => `  ✗ ${error.source}: ${error.code}: ${error.message}\n`).join('');
}

const ACTION_ORDER: Readonly<Record<PlanAction, number>> = { copy: 0, update: 1, skip: 2 };

/**
 * `scanner plan`: per team and target, the tags to copy and update (with the digests known), the count of tags
 * already there, target repositories that do not exist yet, the images that could not be planned; then the
 * manifest GETs (pulls) the sync will cost per source registry, and a summary.
 */
export function planTable(plan: Plan): string {
  const missing = new Map(plan.repositories.filter((repository) => !repository.exists).map((repository) => [`${repository.targetName}\u0000${repository.repository}`, repository]));
  let text = '';
  for (const group of groups(plan.items, plan.errors)) {
    const work = group.items.filter((item) => item.action !== 'skip').sort((a, b) => ACTION_ORDER[a.action] - ACTION_ORDER[b.action]);
    const present = group.items.length - work.length;
    text += `${group.owner} → ${group.targetName}: ${plural(work.filter((item) => item.action === 'copy').length, 'tag')} to copy, ${work.filter((item) => item.action === 'update').length} to update, ${present} present\n`;
    if (work.length > 0) {
      text += formatTable([
        ['', 'ACTION', 'SOURCE', 'TARGET', 'SOURCE DIGEST', 'TARGET DIGEST'],
        ...work.map((item) => ['', item.action, item.source, item.target, shortDigest(item.sourceDigest), shortDigest(item.targetDigest)]),
      ]);
    }
    text += missingLines(group, missing);
    text += errorLines(group.errors);
    text += '\n';
  }
  const copies = plan.items.filter((item) => item.action === 'copy').length;
  const updates = plan.items.filter((item) => item.action === 'update').length;
  text += pullsLine('manifest GETs (pulls) the sync will make, per source registry', plan.pulls);
  const failed = plan.errors.length === 0 ? '' : `; ${plural(plan.errors.length, 'image')} could not be planned`;
  const repositories = missing.size === 0 ? '' : `; ${plural(missing.size, 'target repository', 'target repositories')} to create first`;
  const nothing = copies + updates === 0 && plan.errors.length === 0 ? ' (nothing to do)' : '';
  text += `plan: ${copies} to copy, ${updates} to update, ${plan.items.length - copies - updates} present${repositories}${failed}${nothing}\n`;
  return text;
}

const RESULT_ORDER: Readonly<Record<SyncResult, number>> = { failed: 0, copied: 1, updated: 2, skipped: 3 };

function count(items: readonly SyncItem[], result: SyncResult): number {
  return items.filter((item) => item.result === result).length;
}

/**
 * One line per failed tag; a target repository that does not exist is one line for all its tags (the same
 * `repository_missing` error, which says to create it, would otherwise repeat per tag).
 */
function failureLines(items: readonly SyncItem[]): string {
  let text = '';
  const missing = new Map<string, { tags: string[]; message: string }>();
  for (const item of items) {
    if (item.error === null) continue;
    if (item.error.code !== 'repository_missing') {
      text += `  ✗ ${item.target}: ${item.error.code}: ${item.error.message}\n`;
      continue;
    }
    const colon = item.target.lastIndexOf(':');
    const repository = colon > item.target.lastIndexOf('/') ? item.target.slice(0, colon) : item.target;
    const entry = missing.get(repository) ?? { tags: [], message: item.error.message };
    entry.tags.push(item.target.slice(repository.length + 1));
    missing.set(repository, entry);
  }
  for (const [repository, { tags, message }] of missing) {
    text += `  ✗ ${repository} (${plural(tags.length, 'tag')}: ${tags.join(', ')}): repository_missing: ${message}\n`;
  }
  return text;
}

/**
 * `scanner sync`: per team and target, the tags copied, updated and failed (with the error), the count skipped;
 * then blob and request figures and a summary.
 */
export function syncTable(report: SyncReport): string {
  let text = '';
  for (const group of groups(report.items, report.errors)) {
    const done = group.items.filter((item) => item.result !== 'skipped').sort((a, b) => RESULT_ORDER[a.result] - RESULT_ORDER[b.result]);
    text += `${group.owner} → ${group.targetName}: ${count(group.items, 'copied')} copied, ${count(group.items, 'updated')} updated, ${count(group.items, 'skipped')} already there, ${count(group.items, 'failed')} failed\n`;
    if (done.length > 0) {
      // Immutable tags are copied by name: the plan did not resolve their digests, so the column shows only when some did.
      const digests = done.some((item) => item.sourceDigest !== null);
      text += formatTable([
        ['', 'RESULT', 'SOURCE', 'TARGET', ...(digests ? ['SOURCE DIGEST'] : [])],
        ...done.map((item) => ['', item.result, item.source, item.target, ...(digests ? [shortDigest(item.sourceDigest)] : [])]),
      ]);
    }
    text += failureLines(done);
    text += errorLines(group.errors);
    text += '\n';
  }
  const { stats } = report;
  text += `blobs: ${stats.blobsUploaded} uploaded (${formatBytes(stats.bytesUploaded)}), ${stats.blobsMounted} mounted, ${stats.blobsExisting + (stats.blobsKnown ?? 0)} already there; ${stats.manifestsPut} manifests put`;
  if (stats.referrersCopied > 0) text += `, ${stats.referrersCopied} signatures/referrers`;
  if (stats.provenanceWritten > 0) text += `, ${stats.provenanceWritten} provenance artifacts`;
  text += '\n';
  text += pullsLine('manifest GETs (pulls) per source registry', stats.pulls);
  if (Object.values(stats.mirrorPulls ?? {}).some((value) => value > 0)) text += pullsLine('manifest GETs answered by source mirrors', stats.mirrorPulls);
  const failed = count(report.items, 'failed');
  const errors = report.errors.length === 0 ? '' : `; ${plural(report.errors.length, 'image')} could not be planned`;
  text += `sync: ${count(report.items, 'copied')} copied, ${count(report.items, 'updated')} updated, ${count(report.items, 'skipped')} already there, ${failed} failed${errors}\n`;
  return text;
}
