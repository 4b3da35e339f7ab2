export { describeCacheConformance } from './conformance.ts';
export type { CacheConformanceOptions, CacheFactory, CacheFactoryContext } from './conformance.ts';
export { describeScannerWithCache } from './scanner.ts';
