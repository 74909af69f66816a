// Headless Chromium as every browser test and bench of the project launches it (web e2e, compat,
// web benches): one list of flags, so a fix to them reaches every suite.
import { chromium } from "playwright-core";

export const CHROMIUM = process.env.CHROMIUM_BIN ?? "/usr/bin/chromium";

export const CHROMIUM_ARGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
  "--disable-sync", "--no-first-run",
  // Loopback-only ICE: allow loopback candidates, show real addresses (a native peer cannot resolve
  // mDNS names), and grant media so Chromium offers host candidates at all (and a fake microphone).
  "--allow-loopback-in-peer-connection", "--disable-features=WebRtcHideLocalIpsWithMdns",
  "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
  // Voice tests: remote audio plays through <audio> elements and WebAudio without a user gesture.
  // The fake microphone beeps (a 400 Hz square wave, 20 ms every 500 ms: Chromium's
  // media/audio/simple_sources.cc); there is no sound card, output goes to a fake sink.
  "--autoplay-policy=no-user-gesture-required",
];

export function launchChromium() {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

/** A context of `browser` with camera and microphone granted to the origin of `url`. */
export async function mediaContext(browser, url) {
  const context = await browser.newContext();
  await context.grantPermissions(["camera", "microphone"], { origin: new URL(url).origin });
  return context;
}
