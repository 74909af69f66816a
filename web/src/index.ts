export { PeerClient, HostNameAlreadyExistsError, CreateHostRejectedError } from "./PeerClient.js";
export type { PeerConfig, PeerRole, PeerEvents, PeerEventName, PcCreateHook, PcCloseHook } from "./PeerClient.js";
export * from "./protocol.js";
export { PeerAdapter } from "./PeerAdapter.js";
export type { PeerClientProvider } from "./PeerAdapter.js";
export { addAction, addFunction, callback, bridge } from "./bridge.js";
export * from "./codes.g.js";
export { peerStats, collectStats, summarize } from "./stats.js";
export type { PeerStats, CandidateInfo, DataChannelStats, AudioTrackStats, StatsSource } from "./stats.js";
