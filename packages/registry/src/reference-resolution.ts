import { parseImageReference } from '@scanner/image/reference';
import { isScannerError } from '@scanner/image/scanner-error';
import type { ImageReference } from '@scanner/image';
import { isDockerHub } from './endpoint.ts';
import { RegistryError } from './errors.ts';

/** Options of {@link parseReference}. */
export interface ParseReferenceOptions {
  /**
   * The registry host for names that give none (`nginx`, `lab/web:1.2`): Argo CD Image Updater's `default: true`
   * registries config entry. Docker's own rule applies when it is absent or Docker Hub.
   * @default 'docker.io'
   */
  readonly defaultRegistry?: string | undefined;
}

/**
 * Whether a reference string names its registry, by Docker's rule: a first path component that contains `.` or
 * `:` or is `localhost` is a registry host (`ghcr.io/org/app`, `localhost:5000/app`); otherwise the whole string
 * is a repository (`nginx`, `lab/web:1.2`).
 */
export function namesRegistry(input: string): boolean {
  const slash = input.indexOf('/');
  if (slash === -1) return false;
  const first = input.slice(0, slash);
  return first.includes('.') || first.includes(':') || first === 'localhost';
}

/**
 * Parses a reference, sending a name without a registry to `defaultRegistry` instead of Docker Hub. The Docker
 * normalisation (`docker.io/library/…`) is only applied when the name goes to Docker Hub.
 *
 * @example parseReference('lab/web:1.2', { defaultRegistry: 'registry.lab:5000' }) // registry.lab:5000/lab/web:1.2
 * @example parseReference('ghcr.io/org/app', { defaultRegistry: 'registry.lab:5000' }) // ghcr.io/org/app
 * @throws {RegistryError} `invalid_reference` with `fields.input`.
 */
export function parseReference(input: string, options: ParseReferenceOptions = {}): ImageReference {
  const fallback = options.defaultRegistry;
  const text = fallback === undefined || isDockerHub(fallback) || namesRegistry(input.trim()) ? input : `${fallback}/${input.trim()}`;
  try {
    return parseImageReference(text);
  } catch (error) {
    throw new RegistryError('invalid_reference', `${JSON.stringify(input)} is not an image reference: ${isScannerError(error) ? error.detail : String(error)}`, {
      input,
      cause: error,
      hints: {
        library: 'write it as [registry/]repository[:tag][@digest], e.g. ghcr.io/org/app:1.2',
        config: 'write it as [registry/]repository[:tag][@digest], e.g. ghcr.io/org/app:1.2',
        cli: 'write it as [registry/]repository[:tag][@digest], e.g. ghcr.io/org/app:1.2',
      },
    });
  }
}
