export type { Platform } from './platform.ts';
export type { ImageReference } from './reference.ts';
