/**
 * A small stand-in for Extreal's Web.Common bridge (addAction / addFunction / callback), which is not
 * available to us. Unity's jslib (unity/Plugins/WebGL/WebRtcP2p.jslib) calls `callAction` and
 * `callFunction` on `globalThis.webrtcP2pBridge`, and registers the C# callback with
 * `setCallbackTarget`; TypeScript code registers handlers with addAction/addFunction and answers with
 * callback(). Everything is synchronous on the page's one thread, as WebGL is.
 */

export type Action = (str1: string, str2: string) => void;
export type Func = (str1: string, str2: string) => string;
export type CallbackTarget = (name: string, str1: string, str2: string) => void;

const actions = new Map<string, Action>();
const functions = new Map<string, Func>();
let target: CallbackTarget | null = null;
/** Callbacks made before Unity registered its target are delivered once it does. */
const early: [string, string, string][] = [];

export function addAction(name: string, action: Action): void {
  actions.set(name, action);
}

export function addFunction(name: string, func: Func): void {
  functions.set(name, func);
}

/** Called from C# (through the jslib). Unknown names throw a clear error. */
export function callAction(name: string, str1 = "", str2 = ""): void {
  const action = actions.get(name);
  if (!action) throw new Error(`webrtc_p2p bridge: no action named "${name}"`);
  action(str1, str2);
}

export function callFunction(name: string, str1 = "", str2 = ""): string {
  const func = functions.get(name);
  if (!func) throw new Error(`webrtc_p2p bridge: no function named "${name}"`);
  return func(str1, str2);
}

/** Sends a named callback to C#. */
export function callback(name: string, str1 = "", str2 = ""): void {
  if (target) target(name, str1, str2);
  else early.push([name, str1, str2]);
}

export function setCallbackTarget(t: CallbackTarget | null): void {
  target = t;
  while (target && early.length > 0) {
    const [n, a, b] = early.shift()!;
    target(n, a, b);
  }
}

/** The object the jslib finds on the page. */
export const bridge = { callAction, callFunction, setCallbackTarget };
(globalThis as unknown as { webrtcP2pBridge: typeof bridge }).webrtcP2pBridge = bridge;
