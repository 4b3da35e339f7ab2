export type { PolicyErrorCode, PolicyErrorOptions } from './errors.ts';
export { PolicyError, isPolicyError } from './errors.ts';
export type { Strategy, StrategyAlias } from './strategy.ts';
export type { ParsePolicyOptions, Policy, PolicyInput, SortOrder } from './policy.ts';
export { parsePolicy } from './policy.ts';
export type { Candidate, MetadataNeeds } from './select.ts';
export { filterTags, matchesPlatforms, needsMetadata, rankTags, requiredMetadata, selectTags } from './select.ts';
