export { convertSkopeoSync, pinnedTag } from './skopeo.ts';
export { convertRetagger, retaggerTargetTag } from './retagger.ts';
export { mastermindsConstraintProblem } from './masterminds.ts';
export { MUTABLE_TAGS } from './rule-checks.ts';
export type { ConvertOptions, ConvertResult, ConvertedImage, ConvertedRule, ConvertedTeamFile } from './team-file.ts';
