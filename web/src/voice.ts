// Voice over the group in the browser: the microphone sent on every peer connection, every peer's
// voice played, mute, per-peer volume and speaking levels. Plain WebRTC underneath — this is what an
// app would otherwise write in its pc hooks (docs: web/README.md, "Voice").
//
// Interop with the native plugin (Opus, 48 kHz): every offer has an audio section (PeerClient adds
// a recvonly one when no hook added audio; native offers always have one), so either side can be
// the offerer. A member that joins without a microphone can switch one on later without
// renegotiation: its audio section is negotiated send-and-receive from the start, with no track.
import type { PeerClient } from "./PeerClient.js";

export interface VoiceOptions {
  /** The microphone, e.g. `await navigator.mediaDevices.getUserMedia({ audio: true })`; none: listen only. */
  microphone?: MediaStream | null;
  /** Play every peer's voice through an `<audio>` element (default). False: the app plays `remoteStream(id)`. */
  play?: boolean;
}

type TrackHandler = (peerId: string, stream: MediaStream) => void;
type EndedHandler = (peerId: string) => void;

interface PeerVoice {
  pc: RTCPeerConnection;
  stream: MediaStream | null;
  element: HTMLAudioElement | null;
  meter: Meter | null;
  volume: number;
}

/** Loudness over the last `WINDOW` samples (~85 ms at 48 kHz), like the native track's level. */
const WINDOW = 4096;
/** The level scale: 0 at -60 dBFS and below, 100 at full scale (src/rtc/audio/playout.rs). */
const FLOOR_DB = -60;

/** 0..100 from a mean square, on the native client's dB scale. */
export function levelOf(meanSquare: number): number {
  if (!(meanSquare > 0)) return 0;
  const db = 10 * Math.log10(meanSquare);
  return Math.round(Math.min(100, Math.max(0, ((db - FLOOR_DB) / -FLOOR_DB) * 100)));
}

/** An AnalyserNode on a stream, read on demand (nothing runs between reads). */
class Meter {
  private readonly source: MediaStreamAudioSourceNode;
  readonly analyser: AnalyserNode;
  private readonly buf = new Float32Array(WINDOW);

  constructor(context: AudioContext, stream: MediaStream) {
    this.source = context.createMediaStreamSource(stream);
    this.analyser = context.createAnalyser();
    this.analyser.fftSize = WINDOW;
    this.source.connect(this.analyser);
  }

  level(): number {
    this.analyser.getFloatTimeDomainData(this.buf);
    let sum = 0;
    for (const x of this.buf) sum += x * x;
    return levelOf(sum / this.buf.length);
  }

  close(): void {
    this.source.disconnect();
  }
}

/**
 * Voice for one PeerClient. Make it before `startHost`/`startClient` (it adds the client's first
 * pc hooks), and call `resume()` from a user gesture: browsers start audio output suspended.
 */
export class Voice {
  private readonly peers = new Map<string, PeerVoice>();
  private readonly trackHandlers = new Set<TrackHandler>();
  private readonly endedHandlers = new Set<EndedHandler>();
  private microphone: MediaStream | null;
  private readonly play: boolean;
  private mutedMic = false;
  private context: AudioContext | null = null;
  private localMeter: Meter | null = null;
  private closed = false;

  constructor(client: PeerClient, options: VoiceOptions = {}) {
    this.microphone = options.microphone ?? null;
    this.play = options.play ?? true;
    this.meterMicrophone();
    client.addPcCreateHook((id, isOffer, pc) => this.attach(id, isOffer, pc));
    client.addPcCloseHook((id) => this.detach(id));
  }

  /** The peers whose voice arrived, in the order their connections were made. */
  get remotePeers(): string[] {
    return [...this.peers].filter(([, p]) => p.stream).map(([id]) => id);
  }

  /** The voice of `peerId` (null until its track arrives): for the app's own playback or analysis. */
  remoteStream(peerId: string): MediaStream | null {
    return this.peers.get(peerId)?.stream ?? null;
  }

  /** Calls `handler` for every peer voice that arrives (and at once for those already here). */
  onTrack(handler: TrackHandler): () => void {
    this.trackHandlers.add(handler);
    for (const [id, p] of this.peers) if (p.stream) handler(id, p.stream);
    return () => this.trackHandlers.delete(handler);
  }

  /** Calls `handler` when a peer's connection closes (its voice ends with it). */
  onEnded(handler: EndedHandler): () => void {
    this.endedHandlers.add(handler);
    return () => this.endedHandlers.delete(handler);
  }

  /**
   * Sends `stream`'s audio track to every peer from now on, replacing the current one (null: send
   * nothing). The caller owns the stream: stop its tracks when done.
   */
  async setMicrophone(stream: MediaStream | null): Promise<void> {
    this.microphone = stream;
    this.meterMicrophone();
    const track = this.micTrack();
    if (track) track.enabled = !this.mutedMic;
    await Promise.all([...this.peers.values()].map((p) => audioSender(p.pc)?.replaceTrack(track)));
  }

  /** Muted: the microphone sends silence (the track stays; peers' levels drop to 0). */
  get muted(): boolean {
    return this.mutedMic;
  }

  set muted(value: boolean) {
    this.mutedMic = value;
    const track = this.micTrack();
    if (track) track.enabled = !value;
  }

  /** Playback volume of one peer, 0..1 (1 by default); 0 silences that peer for this member only. Throws a RangeError for a bad volume or an unknown peer. */
  setVolume(peerId: string, volume: number): void {
    if (!(volume >= 0 && volume <= 1)) throw new RangeError(`volume must be 0..1, got ${volume}`);
    const p = this.peers.get(peerId);
    if (!p) throw new RangeError(`no connection to ${peerId}`);
    p.volume = volume;
    if (p.element) p.element.volume = volume;
  }

  volume(peerId: string): number {
    return this.peers.get(peerId)?.volume ?? 1;
  }

  /** The speaking level of `peerId`'s voice, 0..100, on the native client's scale; 0 before it arrives. */
  level(peerId: string): number {
    return this.peers.get(peerId)?.meter?.level() ?? 0;
  }

  /** The level of the own microphone (0 when muted or absent), for a "you are speaking" indicator. */
  localLevel(): number {
    return this.mutedMic ? 0 : (this.localMeter?.level() ?? 0);
  }

  /** The AnalyserNode on `peerId`'s voice (4096-point), for spectra and custom meters. */
  analyser(peerId: string): AnalyserNode | null {
    return this.peers.get(peerId)?.meter?.analyser ?? null;
  }

  /** Starts audio output: call from a click or key handler (autoplay policy). */
  async resume(): Promise<void> {
    await this.context?.resume();
    await Promise.all([...this.peers.values()].map((p) => p.element?.play().catch(() => {})));
  }

  /** Stops playback and metering; the connections keep their tracks until they close. */
  async close(): Promise<void> {
    this.closed = true;
    for (const id of [...this.peers.keys()]) this.detach(id);
    this.localMeter?.close();
    this.localMeter = null;
    await this.context?.close();
    this.context = null;
  }

  private meterMicrophone(): void {
    this.localMeter?.close();
    this.localMeter = this.microphone ? new Meter(this.audioContext(), this.microphone) : null;
  }

  private micTrack(): MediaStreamTrack | null {
    return this.microphone?.getAudioTracks()[0] ?? null;
  }

  private audioContext(): AudioContext {
    this.context ??= new AudioContext();
    return this.context;
  }

  private attach(id: string, isOffer: boolean, pc: RTCPeerConnection): void {
    if (this.closed) return;
    const peer: PeerVoice = { pc, stream: null, element: null, meter: null, volume: 1 };
    this.peers.set(id, peer);
    pc.addEventListener("track", (e) => {
      if (e.track.kind === "audio" && this.peers.get(id) === peer) this.arrived(id, peer, e.streams[0] ?? new MediaStream([e.track]));
    });
    const track = this.micTrack();
    if (isOffer) {
      pc.addTransceiver(track ?? "audio", { direction: "sendrecv", streams: this.microphone ? [this.microphone] : [] });
    } else if (track) {
      pc.addTrack(track, this.microphone!);
    } else {
      // No microphone yet: answer send-and-receive anyway (while the offer is applied, before the
      // answer is made), so that a later setMicrophone() needs no renegotiation.
      pc.addEventListener("signalingstatechange", () => {
        if (pc.signalingState !== "have-remote-offer") return;
        const t = pc.getTransceivers().find((t) => t.receiver.track.kind === "audio" && t.direction === "recvonly");
        if (t) t.direction = "sendrecv";
      });
    }
  }

  private arrived(id: string, peer: PeerVoice, stream: MediaStream): void {
    peer.stream = stream;
    // Metered from the start, so the first level() read already covers the last ~85 ms.
    peer.meter = new Meter(this.audioContext(), stream);
    if (this.play) {
      const element = new Audio();
      element.autoplay = true;
      element.srcObject = stream;
      element.volume = peer.volume;
      void element.play().catch(() => {}); // blocked until a user gesture: resume() retries
      peer.element = element;
    }
    for (const h of [...this.trackHandlers]) {
      try {
        h(id, stream);
      } catch (e) {
        console.warn("webrtc_p2p: a voice track handler failed", e);
      }
    }
  }

  private detach(id: string): void {
    const peer = this.peers.get(id);
    if (!peer) return;
    this.peers.delete(id);
    peer.meter?.close();
    if (peer.element) {
      peer.element.pause();
      peer.element.srcObject = null;
    }
    if (!peer.stream) return;
    for (const h of [...this.endedHandlers]) {
      try {
        h(id);
      } catch (e) {
        console.warn("webrtc_p2p: a voice ended handler failed", e);
      }
    }
  }
}

/** The sender of the connection's first audio section (the one Voice negotiated). */
function audioSender(pc: RTCPeerConnection): RTCRtpSender | undefined {
  return pc.getTransceivers().find((t) => t.receiver.track.kind === "audio")?.sender;
}
