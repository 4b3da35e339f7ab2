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
