import { describe, expect, it } from "vitest";
import { Limits, createHostOutcome, message, parseIceServers, parseMessage, withoutNulls } from "../src/protocol.js";
import { Mesh } from "../src/mesh.js";

describe("message shapes (docs/protocol.md; the trickle rules themselves are in tests/vectors/)", () => {
  it("a vanilla peer sends exactly what Extreal sends (no trickle key)", () => {
    expect(message("offer", "x", { sdp: "v=0" }, false)).toEqual({ type: "offer", to: "x", sdp: "v=0" });
    expect("trickle" in message("join", "h")).toBe(false);
  });
});

describe("parseMessage", () => {
  it("accepts each type with its fields", () => {
    expect(parseMessage({ type: "offer", from: "a", sdp: "v=0" })).not.toBeNull();
    expect(parseMessage({ type: "call me", from: "h", me: "n" })).not.toBeNull();
    expect(parseMessage({ type: "candidate", from: "a", ice: { candidate: "candidate:1" } })).not.toBeNull();
    expect(parseMessage({ type: "bye", from: "a" })).not.toBeNull();
  });
  it("rejects malformed bodies instead of throwing", () => {
    for (const bad of [null, 1, "x", {}, { type: "offer", from: "a" }, { type: "offer", sdp: "v=0" }, { type: "call me", from: "h" },
      { type: "candidate", from: "a", ice: {} }, { type: "nope", from: "a" }, { type: "join", from: "" }]) {
      expect(parseMessage(bad)).toBeNull();
    }
  });
});

describe("null fields mean absent (Extreal's C# client sends every field, null where unset)", () => {
  const cs = (type: string, fields: Record<string, unknown> = {}) => ({ type, from: "a", to: "b", me: null, sdp: null, ...fields });
  it("accepts the C#-shaped message of every kind and drops its nulls", () => {
    expect(parseMessage(cs("join"))).toEqual({ type: "join", from: "a", to: "b" });
    expect(parseMessage(cs("done"))).toEqual({ type: "done", from: "a", to: "b" });
    expect(parseMessage(cs("bye"))).toEqual({ type: "bye", from: "a", to: "b" });
    expect(parseMessage(cs("offer", { sdp: "v=0" }))).toEqual({ type: "offer", from: "a", to: "b", sdp: "v=0" });
    expect(parseMessage(cs("answer", { sdp: "v=0" }))).toEqual({ type: "answer", from: "a", to: "b", sdp: "v=0" });
    expect(parseMessage(cs("call me", { me: "n" }))).toEqual({ type: "call me", from: "a", to: "b", me: "n" });
  });
  it("a null trickle is no trickle", () => {
    const join = parseMessage(cs("join", { trickle: null }))!;
    expect("trickle" in join).toBe(false);
    expect("trickle" in parseMessage(cs("offer", { sdp: "v=0", trickle: null }))!).toBe(false);
  });
  it("a null required field is a missing one", () => {
    expect(parseMessage(cs("offer"))).toBeNull(); // sdp: null
    expect(parseMessage(cs("call me"))).toBeNull(); // me: null
    expect(parseMessage({ type: "candidate", from: "a", ice: null })).toBeNull();
    expect(parseMessage({ type: "join", from: null, to: "b" })).toBeNull();
  });
  it("withoutNulls keeps falsy non-null values", () => {
    expect(withoutNulls({ a: null, b: 0, c: "", d: false, e: undefined })).toEqual({ b: 0, c: "", d: false });
  });
});

describe("create host replies", () => {
  it("200 is created", () => {
    expect(createHostOutcome({ status: 200, message: "Host have been created. host: r" }, "r")).toEqual({ kind: "created" });
  });
  it("409 without a reason (Extreal's server) or with name-taken is a taken name", () => {
    expect(createHostOutcome({ status: 409, message: "Host already exists. host: r" }, "r")).toEqual({ kind: "name-taken", message: "Host already exists. host: r" });
    expect(createHostOutcome({ status: 409, message: "Host already exists. host: r", reason: "name-taken" }, "r").kind).toBe("name-taken");
    expect(createHostOutcome({ status: 409, message: null, reason: null } as never, "r")).toEqual({ kind: "name-taken", message: "Host already exists. host: r" });
  });
  it("409 with another reason is a refusal carrying the server's message", () => {
    for (const reason of ["invalid-name", "already-in-group", "rate-limited", "too-large", "something-new"]) {
      expect(createHostOutcome({ status: 409, message: `no: ${reason}`, reason }, "r")).toEqual({ kind: "rejected", status: 409, reason, message: `no: ${reason}` });
    }
  });
  it("any other status is a refusal", () => {
    expect(createHostOutcome({ status: 400, message: "bad" }, "r")).toEqual({ kind: "rejected", status: 400, reason: undefined, message: "bad" });
    expect(createHostOutcome({ status: 500 }, "r").kind).toBe("rejected");
  });
});

describe("what a hostile peer sends is bounded (limits generated from the protocol crate)", () => {
  it("oversized SDPs, candidates and ids are dropped", () => {
    expect(parseMessage({ type: "offer", from: "a", sdp: "x".repeat(Limits.maxSdpBytes + 1) })).toBeNull();
    expect(parseMessage({ type: "offer", from: "a", sdp: "x".repeat(Limits.maxSdpBytes) })).not.toBeNull();
    expect(parseMessage({ type: "candidate", from: "a", ice: { candidate: "c".repeat(Limits.maxCandidateBytes + 1) } })).toBeNull();
    expect(parseMessage({ type: "call me", from: "h", me: "m".repeat(Limits.maxIdBytes + 1) })).toBeNull();
    expect(parseMessage({ type: "call me", from: "h", me: "" })).toBeNull();
  });
  it("a candidate flood before the answer keeps only the first ones, in order (too many for a vector)", () => {
    const mesh = new Mesh({ trickle: true, maxPeers: 8, p2pTimeoutMs: 15000, vanillaIceTimeoutMs: 5000 });
    mesh.handle({ ownId: "m" });
    mesh.handle({ app: "join", host: "h" });
    mesh.handle({ signal: { type: "call me", from: "h", me: "n", trickle: true } });
    for (let i = 0; i < 10_000; i++) {
      expect(mesh.handle({ signal: { type: "candidate", from: "n", ice: { candidate: `c${i}`, sdpMid: "0", sdpMLineIndex: 0 } } })).toEqual([]);
    }
    const out = mesh.handle({ signal: { type: "answer", from: "n", sdp: "v=0" } });
    const kept = out.flatMap((o) => ("op" in o && o.op === "addCandidate" ? [o.ice.candidate] : []));
    expect(kept.length).toBe(Limits.maxQueuedCandidates);
    expect(kept[0]).toBe("c0");
  });
});

describe("parseIceServers (the server's TURN credentials)", () => {
  const turn = { urls: ["turn:127.0.0.1:3478"], username: "1790000000:abc", credential: "c2VjcmV0" };
  it("takes the issued servers", () => {
    expect(parseIceServers({ iceServers: [turn], ttl: 600 })).toEqual([turn]);
    expect(parseIceServers({ iceServers: [], ttl: 600 })).toEqual([]);
  });
  it("rejects other shapes as a whole instead of throwing", () => {
    for (const bad of [null, 1, "x", {}, { iceServers: "turn:x" }, { iceServers: [null] }, { iceServers: [{ ...turn, urls: [] }] },
      { iceServers: [{ ...turn, urls: "turn:x" }] }, { iceServers: [{ ...turn, urls: [1] }] }, { iceServers: [{ ...turn, username: 1 }] },
      { iceServers: [turn, { urls: ["turn:y"] }] }]) {
      expect(parseIceServers(bad)).toBeNull();
    }
  });
});
