// What the Chromium suites share: child processes read line by line, and the stack every test
// runs on (the real signaling server, the demo page server, headless Chromium with a granted
// fake microphone).
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { launchChromium, mediaContext } from "./chromium.mjs";

const children = [];

/**
 * Starts a process and resolves with the first stdout line matching `pattern`, plus `waitLine(re)`
 * (the first line ever printed matching `re`) and `lines` (everything printed so far).
 */
export function startProcess(cmd, args, pattern, opts = {}) {
  const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "inherit"], ...opts });
  children.push(child);
  const lines = [];
  const waiters = [];
  createInterface({ input: child.stdout }).on("line", (line) => {
    lines.push(line);
    for (const w of [...waiters]) if (w.re.test(line)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(line); }
  });
  const waitLine = (re, ms = 30000) => {
    const seen = lines.find((l) => re.test(l));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const w = { re, resolve };
      waiters.push(w);
      setTimeout(() => reject(new Error(`${cmd} never printed ${re}; got:\n${lines.join("\n")}`)), ms);
    });
  };
  return waitLine(pattern).then((line) => ({ child, line, waitLine, lines }));
}

/** The signaling server, the demo server and Chromium; `stop()` ends them and every process started here. */
export async function startStack() {
  const server = await startProcess(process.env.P2P_SIGNALING_BIN, ["--bind", "127.0.0.1:0"], /listening on/);
  const signalingUrl = server.line.match(/(http:\/\/\S+)/)[1];
  const demo = await startProcess("node", ["scripts/serve.mjs", "--port", "0", "--signaling", signalingUrl], /demo listening on/);
  const demoUrl = demo.line.match(/(http:\/\/\S+)/)[1];
  const browser = await launchChromium();
  const context = await mediaContext(browser, demoUrl);
  const stop = async () => {
    await browser.close();
    for (const c of children) c.kill();
  };
  return { signalingUrl, demoUrl, browser, context, stop };
}

/** A demo page, once it has its config. */
export async function openPage(context, demoUrl) {
  const page = await context.newPage();
  page.on("pageerror", (e) => console.error("page error:", e));
  await page.goto(demoUrl);
  await page.waitForFunction(() => document.getElementById("signaling").textContent.length > 0);
  return page;
}
