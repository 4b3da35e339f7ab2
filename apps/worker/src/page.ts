import { createHash } from 'node:crypto';
import { html, raw } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import type { ConfigFileStatus } from './config-store.ts';
import type { ImageStatus, StatusDocument, TargetState, TargetStatus, TeamStatus } from './status.ts';

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:1.5rem;color:#1b1f24;background:#fff}
h1{font-size:1.4rem;margin:0 0 .25rem}h2{font-size:1.15rem;margin:1.75rem 0 .25rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0}th,td{border-bottom:1px solid #d0d7de;padding:.3rem .5rem;text-align:left;vertical-align:top;overflow-wrap:anywhere}
th{background:#f6f8fa;font-weight:600}code{font-size:.9em}.muted{color:#57606a}
.state{display:inline-block;padding:0 .45rem;border-radius:.6rem;font-weight:600;white-space:nowrap}
.state-failing{background:#ffebe9;color:#a40e26}.state-missing{background:#fff8c5;color:#7d4e00}
.state-running{background:#ddf4ff;color:#0a3069}.state-pending{background:#eaeef2;color:#424a53}.state-up_to_date{background:#dafbe1;color:#116329}
.issues{color:#a40e26;margin:.25rem 0 .5rem 1rem;padding:0}
`.trim();

/** The CSP `style-src` source of the page's one inline stylesheet. */
export const STYLE_HASH = `'sha256-${createHash('sha256').update(STYLE).digest('base64')}'`;

/**
 * The Content-Security-Policy of every response: nothing may load or run but the page's own stylesheet (by
 * hash); no scripts at all, no frames, no forms.
 */
export const CONTENT_SECURITY_POLICY = `default-src 'none'; style-src ${STYLE_HASH}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;

const LABELS: Record<TargetState, string> = { failing: 'failing', missing: 'missing tags', running: 'running', pending: 'not run yet', up_to_date: 'up to date' };

const badge = (state: TargetState): HtmlEscapedString | Promise<HtmlEscapedString> => html`<span class="state state-${state}">${LABELS[state]}</span>`;

function when(iso: string | null): string {
  return iso === null ? '–' : iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

function tagList(tags: readonly string[], limit = 8): string {
  if (tags.length === 0) return '–';
  const shown = tags.slice(0, limit).join(', ');
  return tags.length > limit ? `${shown} … (${tags.length} in all)` : shown;
}

function issuesOf(file: ConfigFileStatus) {
  return html`<ul class="issues">${file.issues.map(
    (issue) => html`<li><code>${issue.file}${issue.line === undefined ? '' : `:${issue.line}`}${issue.column === undefined ? '' : `:${issue.column}`}</code> ${issue.path} ${issue.message}</li>`,
  )}</ul>`;
}

function fileLine(file: ConfigFileStatus) {
  if (file.valid) return html`<li><code>${file.file}</code> valid</li>`;
  return html`<li><code>${file.file}</code> ${badge('failing')} invalid since ${when(file.invalidSince)}; ${file.inForce ? 'its last valid version stays in force' : 'nothing from it is in force'}${issuesOf(file)}</li>`;
}

function targetRow(image: ImageStatus, target: TargetStatus, first: boolean) {
  const problem = target.state === 'failing' && target.failingSince !== null ? html`<br><span class="muted">since ${when(target.failingSince)}</span>` : '';
  const error = target.lastError === null ? '–' : html`<code>${target.lastError.code}</code> ${target.lastError.message}`;
  const failed = target.failed.map((tag) => tag.tag);
  return html`<tr>
<td>${first ? html`<code>${image.source}</code><br><span class="muted">${image.file}</span>` : ''}</td>
<td>${target.name}<br><span class="muted">${target.repository ?? target.registry}</span></td>
<td>${badge(target.state)}${problem}</td>
<td>${tagList(target.upToDate)}</td>
<td>${tagList(target.missing)}</td>
<td>${tagList(failed)}</td>
<td>${when(target.lastRun?.finishedAt ?? target.lastRun?.startedAt ?? null)}</td>
<td>${when(image.nextRun)}${image.schedule === null ? '' : html`<br><span class="muted">cron <code>${image.schedule}</code></span>`}</td>
<td>${error}</td>
</tr>`;
}

function teamSection(team: TeamStatus, index: number) {
  const rows = team.images.flatMap((image) => image.targets.map((target, position) => targetRow(image, target, position === 0)));
  return html`<section id="team-${index}" data-team="${team.owner}">
<h2>${team.owner} ${badge(team.state)}</h2>
<ul>${team.files.map(fileLine)}</ul>
<table>
<thead><tr><th>Image</th><th>Target</th><th>State</th><th>Up to date</th><th>Missing</th><th>Failed</th><th>Last run</th><th>Next run</th><th>Last error</th></tr></thead>
<tbody>${rows}</tbody>
</table>
</section>`;
}

/** The status page: a summary per team, config problems, then one table per team. Every value is escaped. */
export function renderStatusPage(status: StatusDocument) {
  const orphanFiles = status.config.files.filter((file) => file.owner === undefined && !file.valid);
  const summary = status.teams.map((team, index) => {
    const failing = team.images.filter((image) => image.state === 'failing').length;
    const missing = team.images.filter((image) => image.state === 'missing').length;
    return html`<tr><td><a href="#team-${index}">${team.owner}</a></td><td>${badge(team.state)}</td><td>${team.images.length}</td><td>${failing}</td><td>${missing}</td></tr>`;
  });
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="30">
<title>Registry mirror status</title>
<style>${raw(STYLE)}</style>
</head>
<body>
<h1>Registry mirror status</h1>
<p class="muted">${status.ready ? 'ready' : 'NOT READY'} · queue ${status.queue.kind}${status.queue.waiting === null ? '' : `, ${status.queue.waiting} waiting, ${status.queue.active ?? 0} running`} · config <code>${status.config.dir}</code> · ${when(status.generatedAt)}</p>
${orphanFiles.length === 0 ? '' : html`<h2>Config problems</h2><ul>${orphanFiles.map(fileLine)}</ul>`}
<table>
<thead><tr><th>Team</th><th>State</th><th>Images</th><th>Failing</th><th>Missing tags</th></tr></thead>
<tbody>${summary}</tbody>
</table>
${status.teams.map(teamSection)}
</body>
</html>`;
}
