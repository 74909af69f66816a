import { describe, expect, it } from "vitest";
import { levelOf } from "../src/voice.js";

// The browser's speaking level uses the native track's scale (src/rtc/audio/playout.rs): mean square
// in dBFS, 0 at -60 dB and below, 100 at full scale, so both clients' meters read alike.
describe("speaking level scale", () => {
  it("maps dBFS linearly from -60 (0) to 0 (100)", () => {
    expect(levelOf(1)).toBe(100);
    expect(levelOf(0.5)).toBe(95); // a full-scale sine: -3 dB
    expect(levelOf(1e-3)).toBe(50); // -30 dB
    expect(levelOf(1e-6)).toBe(0);
    expect(levelOf(1e-9)).toBe(0);
  });
  it("is 0 for silence and for garbage", () => {
    expect(levelOf(0)).toBe(0);
    expect(levelOf(NaN)).toBe(0);
    expect(levelOf(-1)).toBe(0);
  });
  it("never passes 100 (clipped input can exceed full scale)", () => {
    expect(levelOf(4)).toBe(100);
  });
});
