// Shared by the plan tests: a config from YAML text (through the real loader), and a client that counts.
import { createRegistryClient } from '@scanner/registry';
import type { RegistryClient, RegistryClientOptions, RegistryEvent, RequestEvent } from '@scanner/registry';
import { assembleMirrorConfig, formatConfigIssue } from './config.ts';
import { parseTargetsFile, parseTeamFile } from './config-files.ts';
import type { MirrorConfig } from './types.ts';

/** A config from file contents; throws with every issue when they are invalid. */
export function configFrom(targets: string, teams: Readonly<Record<string, string>>): MirrorConfig {
  const parsedTargets = parseTargetsFile(targets);
  const parsedTeams = Object.entries(teams).map(([file, content]) => parseTeamFile(content, file));
  const issues = [parsedTargets, ...parsedTeams].flatMap((result) => (result.ok ? [] : result.issues));
  if (!parsedTargets.ok || issues.length > 0) throw new Error(issues.map(formatConfigIssue).join('\n'));
  const assembled = assembleMirrorConfig('.', parsedTargets.value, parsedTeams.flatMap((result) => (result.ok ? [result.value] : [])));
  if (assembled.issues.length > 0) throw new Error(assembled.issues.map(formatConfigIssue).join('\n'));
  return assembled.config;
}

/** A registry client that records every request it sends. */
export interface CountingClient extends AsyncDisposable {
  readonly client: RegistryClient;
  readonly requests: RequestEvent[];
  /** Requests as `METHOD kind registry/repository`, e.g. `GET tags 127.0.0.1:5000/team/app`. */
  summary(): string[];
  reset(): void;
}

export function countingClient(options: RegistryClientOptions = {}): CountingClient {
  const requests: RequestEvent[] = [];
  const client = createRegistryClient({
    retries: 0,
    ...options,
    onEvent: (event: RegistryEvent) => {
      if (event.type === 'request') requests.push(event);
    },
  });
  return {
    client,
    requests,
    summary: () => requests.map((request) => `${request.method} ${request.kind} ${request.registry}/${request.repository ?? ''}`),
    reset: () => {
      requests.length = 0;
    },
    [Symbol.asyncDispose]: () => client.close(),
  };
}
