// The conformance vectors of tests/vectors/ (repository root) against the web client's machine
// (src/mesh.ts); the native client runs the same files in `cargo test` (src/mesh/vectors.rs).
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { Mesh, type MeshInput, type MeshOutput, type Timer } from "../src/mesh.js";
import { Limits, withoutNulls } from "../src/protocol.js";

const dir = join(dirname(fileURLToPath(import.meta.url)), "../../tests/vectors");
type Json = Record<string, any>;

/** Fires timers by name, as the Rust runner does: the latest armed for that peer and kind, or the earliest with `stale`. */
function input(step: Json, armed: Timer[]): MeshInput {
  if ("signal" in step) return { signal: withoutNulls(step.signal) };
  if ("timer" in step) {
    const matching = armed.filter((t) => t.peer === step.peer && t.kind === step.timer);
    const timer = step.stale ? matching[0] : matching[matching.length - 1];
    if (!timer) throw new Error(`no ${step.timer} timer armed for ${step.peer}`);
    return { timer };
  }
  return step as MeshInput;
}

/** The JSON form of an output: a timer's serial is the machine's business, not the vector's. */
function shown(o: MeshOutput): Json {
  if ("arm" in o) return { arm: o.arm, peer: o.peer, ms: o.ms };
  return o;
}

function run(scenario: Json): void {
  const c = scenario.config ?? {};
  const mesh = new Mesh({
    trickle: c.trickle ?? true,
    maxPeers: c.maxPeers ?? Limits.defaultMaxPeers,
    p2pTimeoutMs: c.p2pTimeoutMs ?? 15000,
    vanillaIceTimeoutMs: c.vanillaIceTimeoutMs ?? 5000,
  });
  const armed: Timer[] = [];
  scenario.steps.forEach((step: Json, i: number) => {
    const out = mesh.handle(input(step.in, armed));
    for (const o of out) if ("arm" in o) armed.push(o.timer);
    expect(out.map(shown), `step ${i}: ${JSON.stringify(step.in)}`).toEqual(step.out);
  });
}

const files = readdirSync(dir).filter((f) => f.endsWith(".json")).sort();

describe("conformance vectors", () => {
  it("exist", () => expect(files.length).toBeGreaterThan(0));
  for (const file of files) {
    const doc = JSON.parse(readFileSync(join(dir, file), "utf8"));
    describe(file, () => {
      for (const scenario of doc.scenarios) it(scenario.name, () => run(scenario));
    });
  }
  it("a wrong expectation fails", () => {
    const wrong = { name: "wrong", steps: [{ in: { app: "host" }, out: [{ started: "x" }] }] };
    expect(() => run(wrong)).toThrow();
  });
});
