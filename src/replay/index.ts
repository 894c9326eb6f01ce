export { startReplayServer, findFixturesDir, SERVICE_PREFIX } from './server';
export type { ReplayServer, ReplayOptions, ReplayStats, ReplayLimit, FaultRule, FaultKind, ReplayService, ReplayLogEntry } from './server';
export type { SyntheticWork, CrossrefItem } from './corpus';
export { makePdf } from './pdf';
