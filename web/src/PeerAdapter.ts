import { addAction, addFunction, callback } from "./bridge.js";
import { ErrorCode } from "./codes.g.js";
import { CreateHostRejectedError, HostNameAlreadyExistsError, PeerClient, type PeerConfig, type PeerEventName } from "./PeerClient.js";
import { Voice } from "./voice.js";
import { addVoiceActions, forwardVoiceEvents } from "./voiceBridge.js";

/** The C ABI code of a failed request: HostExists, Rejected, or `failCode` (codes.g.ts, generated from src/ffi/types.rs). */
function errorCode(e: Error, failCode: number): number {
  if (e instanceof HostNameAlreadyExistsError) return ErrorCode.HostExists;
  if (e instanceof CreateHostRejectedError) return ErrorCode.Rejected;
  return failCode;
}

/** Returns the PeerClient the adapter made for Unity (after C# sent its config). */
export type PeerClientProvider = () => PeerClient;

const prefix = (name: string) => `WebGLPeerClient#${name}`;

/** C# event handler names, per PeerClient event (unity/Runtime/WebGL/WebGLPeerClient.cs). */
const eventCallbacks: Record<PeerEventName, string> = {
  started: "HandleOnStarted",
  startFailed: "HandleOnStartFailed",
  connectFailed: "HandleOnConnectFailed",
  disconnected: "HandleOnDisconnected",
  userConnecting: "HandleOnUserConnecting",
  userConnected: "HandleOnUserConnected",
  userDisconnecting: "HandleOnUserDisconnecting",
};

/** The JSON config C# sends (unity PeerConfig.ToJson: the native library's keys). */
interface WebGLPeerConfig {
  signalingUrl: string;
  iceServers?: { urls: string[]; username?: string; credential?: string }[];
  p2pTimeoutMs?: number;
  vanillaIceTimeoutMs?: number;
  trickleIce?: boolean;
  /** "relay": TURN candidates only (C# PeerConfig.RelayOnly). */
  iceTransportPolicy?: RTCIceTransportPolicy;
  socket?: { connectionTimeoutMs?: number; reconnection?: boolean };
}

/**
 * Connects Unity's WebGLPeerClient to a browser PeerClient through the bridge, with the action names
 * the seed's WebGLPeerClient calls. Results go back as callbacks carrying JSON
 * `{status: 0 | error code, message?, hosts?}` (status codes as in the C ABI).
 */
export interface PeerAdapterOptions {
  /**
   * Voice for Unity WebGL (default true): each PeerClient gets a Voice, driven from C# through the
   * bridge (voiceBridge.ts). False for pages that handle media in their own pc hooks.
   */
  voice?: boolean;
}

export class PeerAdapter {
  private peerClient: PeerClient | null = null;
  private voice: Voice | null = null;

  constructor(private readonly options: PeerAdapterOptions = {}) {}

  public adapt = (): void => {
    addAction(prefix("WebGLPeerConfig"), (json) => {
      const c = JSON.parse(json) as WebGLPeerConfig;
      const config: PeerConfig = {
        signalingUrl: c.signalingUrl,
        pcConfig: {
          iceServers: (c.iceServers ?? []).map((s) => ({ urls: s.urls, username: s.username, credential: s.credential })),
          iceTransportPolicy: c.iceTransportPolicy === "relay" ? "relay" : "all",
        },
        p2pTimeoutMs: c.p2pTimeoutMs,
        vanillaIceTimeoutMs: c.vanillaIceTimeoutMs,
        trickleIce: c.trickleIce,
        socketOptions: { timeout: c.socket?.connectionTimeoutMs ?? 5000, reconnection: c.socket?.reconnection ?? false },
      };
      this.peerClient?.stop();
      void this.voice?.close();
      const client = new PeerClient(config);
      this.voice = this.options.voice === false ? null : new Voice(client);
      if (this.voice) forwardVoiceEvents(this.voice);
      for (const [event, name] of Object.entries(eventCallbacks)) {
        client.on(event as PeerEventName, (arg) => callback(prefix(name), arg));
      }
      this.peerClient = client;
    });
    addAction(prefix("DoStartHostAsync"), (name) => this.reply("ReceiveStartHostResponse", () => this.getPeerClient().startHost(name)));
    addAction(prefix("DoListHostsAsync"), () =>
      this.reply("ReceiveListHostsResponse", async () => ({ hosts: await this.getPeerClient().listHosts() })),
    );
    addAction(prefix("DoStartClientAsync"), (hostId) => this.reply("ReceiveStartClientResponse", () => this.getPeerClient().startClient(hostId), ErrorCode.StartFailed));
    addAction(prefix("DoGetStatsAsync"), () => this.reply("ReceiveGetStatsResponse", async () => ({ stats: await this.getPeerClient().getStats() }), ErrorCode.InvalidState));
    addAction(prefix("DoStop"), () => this.peerClient?.stop());
    addFunction(prefix("IsRunning"), () => String(this.peerClient?.isRunning ?? false));
    addFunction(prefix("GetRole"), () => this.peerClient?.role ?? "None");
    addFunction(prefix("GetHostId"), () => this.peerClient?.hostId ?? "");
    addFunction(prefix("GetClientId"), () => this.peerClient?.clientId ?? "");
    if (this.options.voice !== false) addVoiceActions(this.getVoice);
  };

  /** For app code (data channels in pc hooks), as the seed's `peerAdapter.getPeerClient`. */
  public getPeerClient: PeerClientProvider = () => {
    if (!this.peerClient) throw new Error("PeerClient is not ready: Unity has not sent its PeerConfig yet");
    return this.peerClient;
  };

  /** The Voice of the current PeerClient (none before Unity's config, or with `voice: false`). */
  public getVoice = (): Voice => {
    if (!this.voice) throw new Error("no voice: Unity has not sent its PeerConfig yet, or the adapter was made with voice: false");
    return this.voice;
  };

  /** Runs a request and answers C# with its result; `failCode` is the C ABI code of a failure. */
  private reply(name: string, run: () => Promise<unknown>, failCode: number = ErrorCode.ConnectFailed): void {
    run().then(
      (value) => callback(prefix(name), JSON.stringify({ status: 0, ...(typeof value === "object" && value ? value : {}) })),
      (e: Error) => callback(prefix(name), JSON.stringify({ status: errorCode(e, failCode), message: e.message })),
    );
  }
}
