import { describe, expect, it } from "vitest";
import { CandidateQueue, answererTrickles, callMe, message, offererTrickles, parseMessage } from "../src/protocol.js";

describe("trickle capability rule (docs/protocol.md)", () => {
  it("an offerer trickles only when both sides support it", () => {
    expect(offererTrickles(true, true)).toBe(true);
    expect(offererTrickles(true, false)).toBe(false);
    expect(offererTrickles(false, true)).toBe(false);
  });
  it("an answerer trickles only when the offer carried the flag and it supports trickle", () => {
    expect(answererTrickles(true, { type: "offer", trickle: true })).toBe(true);
    expect(answererTrickles(true, { type: "offer" })).toBe(false);
    expect(answererTrickles(false, { type: "offer", trickle: true })).toBe(false);
  });
  it("call me forwards the newcomer's capability", () => {
    expect(callMe("m", { type: "join", from: "n", trickle: true })).toEqual({ type: "call me", to: "m", me: "n", trickle: true });
    expect(callMe("m", { type: "join", from: "n" })).toEqual({ type: "call me", to: "m", me: "n" });
  });
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

describe("CandidateQueue", () => {
  it("holds candidates until the remote description is set, then passes them through", () => {
    const q = new CandidateQueue();
    expect(q.push({ candidate: "1" })).toBeNull();
    expect(q.push({ candidate: "2" })).toBeNull();
    expect(q.open().map((c) => c.candidate)).toEqual(["1", "2"]);
    expect(q.push({ candidate: "3" })).toEqual({ candidate: "3" });
    expect(q.open()).toEqual([]);
  });
});
