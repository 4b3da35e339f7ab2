// Subpaths, not the index: the index also loads the manifest schemas (zod), which tags/select/digest never need.
import { isImageError } from '@scanner/image/errors';
import { isScannerError } from '@scanner/image/scanner-error';
import { parsePlatform } from '@scanner/image/platform';
import { parseImageReference, withTag, withoutTagOrDigest } from '@scanner/image/reference';
import type { ImageReference, Platform } from '@scanner/image';
import type { RunArgs } from './args.ts';
import type { CommandModule, CommandSession } from './command.ts';
import type { CommandContext } from './context.ts';
import { CliError, EXIT, POLICY_ROOT, reportError } from './errors.ts';
import type { ExitCode } from './errors.ts';
import { formatJson, inspectJson, inspectTable, selectJson, selectTable, tagsTable } from './output.ts';
import type { DigestErrorJson, DigestJson, TagsJson } from './output.ts';

/** The IMAGE argument as a reference; a malformed one is the user's input (exit 2), not a package failure. */
function parseImageArgument(image: string): ImageReference {
  try {
    return parseImageReference(image);
  } catch (error) {
    if (!isImageError(error)) throw error;
    throw new CliError('invalid_argument', error.detail, { field: 'IMAGE', input: image, cause: error });
  }
}

/** A repository name for `tags` and `select`: a tag or digest there is a mistake, not something to ignore. */
function checkRepository(command: string, image: string): void {
  const reference = parseImageArgument(image);
  if (reference.tag !== undefined || reference.digest !== undefined) {
    const hint = command === 'select' ? '; put the tag rule in --constraint or --allow-tags' : '';
    throw new CliError('usage', `scanner ${command} takes a repository without tag or digest, got ${JSON.stringify(image)}${hint}`, { field: 'IMAGE', input: image });
  }
}

/**
 * IMAGE as the client reads it: a name without a registry goes to the registries config's `default: true`
 * entry (else Docker Hub). Checked first by {@link parseImageArgument}, so that a malformed one is exit 2.
 */
async function resolveImage(context: CommandContext, image: string): Promise<ImageReference> {
  parseImageArgument(image);
  return context.client.resolveReference(image);
}

/** A repository for `tags` and `select`. */
async function repositoryOf(context: CommandContext, image: string): Promise<ImageReference> {
  return withoutTagOrDigest(await resolveImage(context, image));
}

/** A tag or digest reference; a bare repository means `:latest`, as in Docker. */
async function imageOf(context: CommandContext, image: string): Promise<ImageReference> {
  const reference = await resolveImage(context, image);
  return reference.tag === undefined && reference.digest === undefined ? withTag(reference, 'latest') : reference;
}

function platformsOf(texts: readonly string[]): Platform[] {
  return texts.map((text) => {
    try {
      return parsePlatform(text);
    } catch (error) {
      if (!isImageError(error)) throw error;
      throw new CliError('invalid_argument', `--platform: ${error.detail}`, { field: '--platform', input: text, cause: error });
    }
  });
}

function signalOption(signal: AbortSignal | undefined): { signal?: AbortSignal } {
  return signal === undefined ? {} : { signal };
}

export const tagsCommand: CommandModule = {
  async run(args: RunArgs, session) {
    checkRepository('tags', args.image);
    const context = await session.context();
    const reference = await repositoryOf(context, args.image);
    // Registries list tags in their own order (distribution's depends on its storage driver); sorted, the
    // output is the same for the same tags everywhere. Tags are ASCII, so code-unit order is byte order.
    const tags = (await (await context.scanner()).tags(reference, signalOption(session.signal))).sort();
    const document: TagsJson = { image: String(reference), tags };
    session.io.stdout.write(args.output === 'json' ? formatJson(document) : tagsTable(document));
    return EXIT.ok;
  },
};

export const selectCommand: CommandModule = {
  async run(args: RunArgs, session) {
    checkRepository('select', args.image);
    // Validated before the registry context is built, so that a bad policy is a usage error even when the
    // registry is down; zod and the policy compiler load only for this command.
    const { parsePolicy } = await import('@scanner/version');
    const policy = parsePolicy(args.policy, { path: POLICY_ROOT });
    const context = await session.context();
    const reference = await repositoryOf(context, args.image);
    const result = await (await context.scanner()).select(reference, policy, signalOption(session.signal));
    const document = selectJson(result);
    session.io.stdout.write(args.output === 'json' ? formatJson(document) : selectTable(document));
    if (document.selected === null) {
      session.io.stderr.write(`scanner: no tag of ${document.image} matched the policy\n`);
      return EXIT.noMatch;
    }
    return EXIT.ok;
  },
};

export const digestCommand: CommandModule = {
  async run(args: RunArgs, session) {
    // Every argument is checked before the first request: a typo in the tenth image is exit 2, nothing sent.
    for (const image of args.images) parseImageArgument(image);
    const context = await session.context();
    if (args.images.length === 1) {
      const reference = await imageOf(context, args.image);
      const digest = await context.client.resolveDigest(reference, signalOption(session.signal));
      const document: DigestJson = { image: String(reference), digest };
      session.io.stdout.write(args.output === 'json' ? formatJson(document) : `${digest}\n`);
      return EXIT.ok;
    }
    return digestMany(args, session, context);
  },
};

/** One image of `scanner digest IMAGE IMAGE …`: its digest, or why it has none. */
type DigestOutcome = { readonly image: string; readonly digest: string } | { readonly image: string; readonly error: unknown };

/**
 * Several images in one process, reported in argument order. Each IMAGE is first resolved as the client reads
 * it (no request), so that `repo` and `repo:latest` are one image and every line names the image as resolved.
 * Each registry gets at most its `concurrency` (default 8) images at a time: the client would queue the rest
 * anyway, and a queued image must not spend its operation time-out waiting for a slot. A failure of one image
 * is that image's line on stderr; only an interrupted run (Ctrl-C, `--timeout`) fails as a whole.
 */
async function digestMany(args: RunArgs, session: CommandSession, context: CommandContext): Promise<ExitCode> {
  const signal = signalOption(session.signal);
  const resolved = await Promise.all(
    args.images.map(async (image) => {
      try {
        return { image, reference: await imageOf(context, image) };
      } catch (error) {
        return { image, error };
      }
    }),
  );
  const outcomes = new Map<string, Promise<DigestOutcome>>();
  const queues = new Map<string, (() => Promise<void>)[]>();
  for (const entry of resolved) {
    if (!('reference' in entry)) continue;
    const key = String(entry.reference);
    if (outcomes.has(key)) continue;
    let settle!: (outcome: DigestOutcome) => void;
    outcomes.set(key, new Promise<DigestOutcome>((resolve) => (settle = resolve)));
    const reference = entry.reference;
    const queue = queues.get(reference.registry) ?? [];
    queues.set(reference.registry, queue);
    queue.push(async () => {
      try {
        settle({ image: key, digest: await context.client.resolveDigest(reference, signal) });
      } catch (error) {
        settle({ image: key, error });
      }
    });
  }
  await Promise.all(
    [...queues].map(async ([registry, queue]) => {
      const concurrency = (await context.client.settingsFor(registry)).concurrency ?? DEFAULT_REGISTRY_CONCURRENCY;
      const worker = async (): Promise<void> => {
        for (let next = queue.shift(); next !== undefined; next = queue.shift()) await next();
      };
      await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, queue.length)) }, worker));
    }),
  );
  if (session.signal?.aborted === true) throw session.signal.reason;
  let exitCode: ExitCode = EXIT.ok;
  const lines: string[] = [];
  const documents: (DigestJson | DigestErrorJson)[] = [];
  for (const entry of resolved) {
    const outcome: DigestOutcome = 'reference' in entry ? await (outcomes.get(String(entry.reference)) as Promise<DigestOutcome>) : entry;
    if ('digest' in outcome) {
      lines.push(`${outcome.image} ${outcome.digest}\n`);
      documents.push(outcome);
      continue;
    }
    const report = reportError(outcome.error);
    if (exitCode === EXIT.ok) exitCode = report.exitCode;
    session.diagnostic(`${outcome.image}: ${report.message}`);
    documents.push({ image: outcome.image, error: { code: isScannerError(outcome.error) ? outcome.error.code : 'unexpected', message: report.message } });
  }
  session.io.stdout.write(args.output === 'json' ? formatJson(documents) : lines.join(''));
  return exitCode;
}

/** `RegistrySettings.concurrency` when a registry's settings leave it out. */
const DEFAULT_REGISTRY_CONCURRENCY = 8;

export const inspectCommand: CommandModule = {
  async run(args: RunArgs, session) {
    parseImageArgument(args.image);
    const platforms = platformsOf(args.platforms);
    const context = await session.context();
    const reference = await imageOf(context, args.image);
    const metadata = await context.client.getImageMetadata(reference, {
      ...signalOption(session.signal),
      ...(platforms.length === 0 ? {} : { platforms }),
    });
    const document = inspectJson(String(reference), metadata);
    // A mirrored copy says where it came from (scanner sync with provenance: true).
    const { provenanceRow, readInspectProvenance } = await import('./inspect-provenance.ts');
    const provenance = await readInspectProvenance(context.client, String(reference), metadata.digest, {
      signal: session.signal,
      onError: (error) => {
        if (args.debug) session.diagnostic(`debug: provenance not read: ${error instanceof Error ? error.message : String(error)}`);
      },
    });
    session.io.stdout.write(args.output === 'json' ? formatJson({ ...document, provenance }) : inspectTable(document, provenanceRow(provenance)));
    return EXIT.ok;
  },
};
