import { describe, expect, it } from "vitest";
import { collectStats, peerStats, summarize } from "../src/stats.js";

// A report as Chromium gives it for a connected pc with one data channel (trimmed to what matters).
const chromiumReport = [
  { type: "transport", id: "T01", selectedCandidatePairId: "CP2" },
  { type: "candidate-pair", id: "CP1", localCandidateId: "L1", remoteCandidateId: "R1", state: "failed", currentRoundTripTime: 9 },
  { type: "candidate-pair", id: "CP2", localCandidateId: "L2", remoteCandidateId: "R2", state: "succeeded", nominated: true, currentRoundTripTime: 0.0123, bytesSent: 1000, bytesReceived: 2000 },
  { type: "local-candidate", id: "L2", candidateType: "host", protocol: "udp", address: "127.0.0.1", port: 5000 },
  { type: "remote-candidate", id: "R2", candidateType: "srflx", protocol: "udp", address: "10.0.0.2", port: 6000 },
  { type: "data-channel", id: "D3", label: "mesh", dataChannelIdentifier: 3, state: "open", messagesSent: 1, bytesSent: 10, messagesReceived: 2, bytesReceived: 20 },
  { type: "data-channel", id: "D1", label: "chat", dataChannelIdentifier: 1, state: "open", messagesSent: 4, bytesSent: 40, messagesReceived: 5, bytesReceived: 50 },
  { type: "inbound-rtp", id: "IA", kind: "audio", trackIdentifier: "mic", packetsReceived: 500, packetsLost: 3, packetsDiscarded: 1, jitter: 0.004,
    jitterBufferDelay: 96, jitterBufferEmittedCount: 1600, concealedSamples: 960, totalSamplesReceived: 480000, totalSamplesDuration: 10 },
  { type: "inbound-rtp", id: "IV", kind: "video", packetsLost: 7, jitter: 1 },
];
const connected = { connectionState: "connected", iceConnectionState: "connected" };

describe("link stats summary from getStats() (the native client's shape)", () => {
  it("takes the transport's selected pair, its candidates, RTT in ms and the data channels by id", () => {
    expect(summarize("p1", connected, chromiumReport)).toEqual({
      peerId: "p1",
      connectionState: "connected",
      iceState: "connected",
      selectedPair: {
        local: { type: "host", protocol: "udp", address: "127.0.0.1", port: 5000 },
        remote: { type: "srflx", protocol: "udp", address: "10.0.0.2", port: 6000 },
      },
      rttMs: 12.3,
      bytesSent: 1000,
      bytesReceived: 2000,
      dataChannels: [
        { label: "chat", id: 1, state: "open", messagesSent: 4, bytesSent: 40, messagesReceived: 5, bytesReceived: 50 },
        { label: "mesh", id: 3, state: "open", messagesSent: 1, bytesSent: 10, messagesReceived: 2, bytesReceived: 20 },
      ],
      audio: [{ trackId: "mic", packetsReceived: 500, packetsLost: 3, packetsLate: 1, jitterMs: 4, bufferedMs: 60, concealedMs: 20 }],
    });
  });

  it("falls back to the pair marked selected (Firefox has no selectedCandidatePairId)", () => {
    const firefox = chromiumReport.filter((e) => e.type !== "transport").map((e) => (e.id === "CP2" ? { ...e, selected: true } : e));
    expect(summarize("p1", connected, firefox).rttMs).toBeCloseTo(12.3);
  });

  it("before ICE: no pair, null RTT, zero bytes, every key present", () => {
    const s = summarize("p2", { connectionState: "new", iceConnectionState: "checking" }, []);
    expect(s).toEqual({ peerId: "p2", connectionState: "new", iceState: "checking", selectedPair: null, rttMs: null, bytesSent: 0, bytesReceived: 0, dataChannels: [], audio: [] });
  });

  it("reads a Map-like report and sorts several links by peer id", async () => {
    const fake = (rtt: number) => ({ ...connected, getStats: async () => new Map(chromiumReport.map((e) => [e.id, e.id === "CP2" ? { ...e, currentRoundTripTime: rtt } : e])) });
    expect((await peerStats("x", fake(0.001))).rttMs).toBe(1);
    const all = await collectStats([["b", fake(0.002)], ["a", fake(0.003)]]);
    expect(all.map((s) => [s.peerId, s.rttMs])).toEqual([["a", 3], ["b", 2]]);
  });
});
