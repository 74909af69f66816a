// Link stats in the browser: the same summary the native client gives (src/rtc/stats.rs, the C ABI's
// p2p_pc_get_stats JSON, C#'s PeerStats), read from RTCPeerConnection.getStats(). One shape in every
// API, so a developer reads the same fields wherever the peer runs.

/** One side of the selected candidate pair. */
export interface CandidateInfo {
  /** "host", "srflx", "prflx" or "relay". */
  type: string;
  /** "udp" or "tcp". */
  protocol: string;
  address: string;
  port: number;
}

/** Traffic of one data channel (payload bytes, per message). */
export interface DataChannelStats {
  label: string;
  /** SCTP stream id. */
  id: number;
  /** "connecting", "open", "closing" or "closed". */
  state: string;
  messagesSent: number;
  bytesSent: number;
  messagesReceived: number;
  bytesReceived: number;
}

/**
 * Reception of one remote audio track (an inbound-rtp entry of kind audio), in the native client's
 * terms (src/rtc/stats.rs). The native client also counts `underruns` and `ended`, which the
 * browser's report has no figure for.
 */
export interface AudioTrackStats {
  trackId: string;
  packetsReceived: number;
  packetsLost: number;
  /** Packets the jitter buffer dropped for arriving too late (or early): `packetsDiscarded`. */
  packetsLate: number;
  jitterMs: number;
  /** The jitter buffer's mean delay so far, ms (the native client gives its current depth). */
  bufferedMs: number;
  /** Audio synthesised by loss concealment, ms. */
  concealedMs: number;
}

/** The summary of one peer connection; every key is always present, absent values are null. */
export interface PeerStats {
  peerId: string;
  /** RTCPeerConnectionState. */
  connectionState: string;
  /** RTCIceConnectionState. */
  iceState: string;
  /** The pair ICE selected; null until there is one. */
  selectedPair: { local: CandidateInfo; remote: CandidateInfo } | null;
  /** Current round-trip time on the selected pair, ms; null until measured. */
  rttMs: number | null;
  /** Bytes on the selected pair (DTLS/SCTP, headers included). */
  bytesSent: number;
  bytesReceived: number;
  dataChannels: DataChannelStats[];
  /** Per received audio track (inbound-rtp of kind audio). */
  audio: AudioTrackStats[];
}

/** The part of an RTCPeerConnection the summary needs (a real one, or a fake in tests). */
export interface StatsSource {
  connectionState: string;
  iceConnectionState: string;
  getStats(): Promise<{ forEach(cb: (value: Record<string, any>) => void): void }>;
}

const num = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) ? v : 0);

function candidate(c: Record<string, any> | undefined): CandidateInfo | null {
  if (!c) return null;
  return { type: String(c.candidateType ?? ""), protocol: String(c.protocol ?? ""), address: String(c.address ?? c.ip ?? ""), port: num(c.port) };
}

/** Builds the summary from the entries of one getStats() report. */
export function summarize(peerId: string, pc: Pick<StatsSource, "connectionState" | "iceConnectionState">, entries: Record<string, any>[]): PeerStats {
  const byId = new Map(entries.map((e) => [e.id as string, e]));
  // The selected pair: the transport says which (Chromium, Safari); Firefox marks it `selected`.
  const transport = entries.find((e) => e.type === "transport" && e.selectedCandidatePairId);
  let pair = transport ? byId.get(transport.selectedCandidatePairId) : undefined;
  pair ??= entries.find((e) => e.type === "candidate-pair" && (e.selected === true || (e.nominated === true && e.state === "succeeded")));
  const local = candidate(pair && byId.get(pair.localCandidateId));
  const remote = candidate(pair && byId.get(pair.remoteCandidateId));
  return {
    peerId,
    connectionState: pc.connectionState,
    iceState: pc.iceConnectionState,
    selectedPair: local && remote ? { local, remote } : null,
    rttMs: pair && typeof pair.currentRoundTripTime === "number" ? pair.currentRoundTripTime * 1000 : null,
    bytesSent: num(pair?.bytesSent),
    bytesReceived: num(pair?.bytesReceived),
    dataChannels: entries
      .filter((e) => e.type === "data-channel")
      .map((e) => ({
        label: String(e.label ?? ""),
        id: num(e.dataChannelIdentifier),
        state: String(e.state ?? ""),
        messagesSent: num(e.messagesSent),
        bytesSent: num(e.bytesSent),
        messagesReceived: num(e.messagesReceived),
        bytesReceived: num(e.bytesReceived),
      }))
      .sort((a, b) => a.id - b.id),
    audio: entries
      .filter((e) => e.type === "inbound-rtp" && e.kind === "audio")
      .map((e) => ({
        trackId: String(e.trackIdentifier ?? e.id),
        packetsReceived: num(e.packetsReceived),
        packetsLost: num(e.packetsLost),
        packetsLate: num(e.packetsDiscarded),
        jitterMs: num(e.jitter) * 1000,
        bufferedMs: num(e.jitterBufferEmittedCount) > 0 ? (num(e.jitterBufferDelay) / num(e.jitterBufferEmittedCount)) * 1000 : 0,
        // Samples at the decoder's rate: scaled by the received duration over the received samples.
        concealedMs: num(e.totalSamplesReceived) > 0 ? (num(e.concealedSamples) / num(e.totalSamplesReceived)) * num(e.totalSamplesDuration) * 1000 : 0,
      })),
  };
}

/** The summary of one connection, from its getStats(). */
export async function peerStats(peerId: string, pc: StatsSource): Promise<PeerStats> {
  const report = await pc.getStats();
  const entries: Record<string, any>[] = [];
  report.forEach((e) => entries.push(e));
  return summarize(peerId, pc, entries);
}

/** The summaries of several connections, sorted by peer id (as the native client's). */
export async function collectStats(pcs: Iterable<[string, StatsSource]>): Promise<PeerStats[]> {
  const all = await Promise.all([...pcs].map(([id, pc]) => peerStats(id, pc)));
  return all.sort((a, b) => (a.peerId < b.peerId ? -1 : a.peerId > b.peerId ? 1 : 0));
}
