export { SyncError, isSyncError } from './errors.ts';
export type { SyncErrorCode, SyncErrorOptions } from './errors.ts';
export type {
  ConfigIssue,
  MirrorConfig,
  MirrorImage,
  MirrorTarget,
  Plan,
  PlanAction,
  PlanError,
  PlanItem,
  PlanRepository,
  SyncEvent,
  SyncItem,
  SyncReport,
  SyncResult,
  SyncStats,
  TagRule,
  TargetTagTemplate,
} from './types.ts';

export { syncPlan, isRepositoryMissing } from './sync.ts';
export type { SyncOptions } from './sync.ts';
export { createBlobLedger } from './ledger.ts';
export type { BlobLedger, BlobOutcome } from './ledger.ts';
export { createSourceReader } from './source.ts';
export type { SourceReader, SourceReaderOptions } from './source.ts';
export { COSIGN_SUFFIXES, cosignTags } from './referrers.ts';
export { PROVENANCE_ANNOTATIONS, PROVENANCE_ARTIFACT_TYPE, formatProvenance, provenanceManifest, readProvenance } from './provenance.ts';
export type { Provenance } from './provenance.ts';

export { assembleMirrorConfig, collectConfigIssues, formatConfigIssue, loadMirrorConfig, readMirrorConfigFiles } from './config.ts';
export type { AssembledMirrorConfig, MirrorConfigFiles, ReadMirrorConfigOptions } from './config.ts';
export { TARGETS_FILE, parseTargetsFile, parseTeamFile } from './config-files.ts';
export type { ConfigFileResult, ConfigLocation, TargetsFile, TeamFile, TeamImage } from './config-files.ts';
export { compileTagRule } from './rules.ts';
export type { CompiledRule } from './rules.ts';
export { targetReference, targetRepository, targetTagName } from './target-path.ts';
export { mergePlans, planImage, planMirror } from './plan.ts';
export type { PlanImageOptions, PlanMirrorOptions } from './plan.ts';
export { MUTABLE_TAGS, convertRetagger, convertSkopeoSync, mastermindsConstraintProblem, pinnedTag, retaggerTargetTag } from './convert/index.ts';
export type { ConvertOptions, ConvertResult, ConvertedImage, ConvertedRule, ConvertedTeamFile } from './convert/index.ts';
