export { PeerClient, HostNameAlreadyExistsError } from "./PeerClient.js";
export type { PeerConfig, PeerRole, PeerEvents, PeerEventName, PcCreateHook, PcCloseHook } from "./PeerClient.js";
export * from "./protocol.js";
