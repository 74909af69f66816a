// Voice for Unity WebGL: the bridge actions C# calls (names after WebGLPeerClient's, prefixed
// "WebGLPeerClient#"). The browser does the audio — Unity WebGL cannot read remote WebRTC audio
// (no OnAudioFilterRead there) — so C# only switches the microphone, mutes, sets per-peer volume and
// reads speaking levels; voices play through the page's <audio> elements (Voice in voice.ts).
import { addAction, addFunction, callback } from "./bridge.js";
import { ErrorCode } from "./codes.g.js";
import type { Voice } from "./voice.js";

const prefix = (name: string) => `WebGLPeerClient#${name}`;

/**
 * Registers the voice actions on the bridge; `voice` returns the Voice of the current PeerClient
 * (or throws when there is none yet). Replies and events go back as callbacks:
 * `ReceiveVoiceStartResponse` `{status: 0 | P2P_ERR_*, message?}`, `HandleOnVoiceTrack` and
 * `HandleOnVoiceEnded` with a peer id.
 */
export function addVoiceActions(voice: () => Voice): void {
  let microphone: MediaStream | null = null;
  const stopMicrophone = () => {
    for (const t of microphone?.getTracks() ?? []) t.stop();
    microphone = null;
  };
  // str1: getUserMedia audio constraints as JSON ("" for the browser's defaults: echo
  // cancellation, noise suppression and gain control on, as a voice chat wants).
  addAction(prefix("DoVoiceStartAsync"), (constraints) => {
    const reply = (status: number, message?: string) =>
      callback(prefix("ReceiveVoiceStartResponse"), JSON.stringify(message ? { status, message } : { status }));
    let audio: MediaTrackConstraints | boolean = true;
    try {
      const v = voice();
      if (constraints) {
        const parsed: unknown = JSON.parse(constraints);
        if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
          throw new SyntaxError(`audio constraints must be a JSON object, got ${constraints.slice(0, 40)}`);
        }
        audio = parsed as MediaTrackConstraints;
      }
      navigator.mediaDevices
        .getUserMedia({ audio })
        .then(async (stream) => {
          stopMicrophone();
          microphone = stream;
          await v.setMicrophone(stream);
          reply(ErrorCode.Ok);
        })
        .catch((e: Error) => reply(ErrorCode.Rejected, `no microphone: ${e.name}: ${e.message}`));
    } catch (e) {
      reply(e instanceof SyntaxError ? ErrorCode.InvalidArgument : ErrorCode.InvalidState, (e as Error).message);
    }
  });
  // The rest answer at once with "0" or a P2P_ERR_* code (as strings); none throws into Unity.
  const status = (run: () => void): string => {
    try {
      run();
      return String(ErrorCode.Ok);
    } catch (e) {
      console.warn("webrtc_p2p voice:", (e as Error).message);
      return String(e instanceof RangeError ? ErrorCode.InvalidArgument : ErrorCode.InvalidState);
    }
  };
  addFunction(prefix("VoiceStop"), () =>
    status(() => {
      void voice().setMicrophone(null);
      stopMicrophone();
    }),
  );
  // str1 "true" or "false".
  addFunction(prefix("VoiceSetMuted"), (muted) => status(() => (voice().muted = muted === "true")));
  // str1 peer id, str2 volume 0..1.
  addFunction(prefix("VoiceSetVolume"), (peerId, volume) => status(() => voice().setVolume(peerId, volume === "" ? NaN : Number(volume))));
  // After a user gesture (Chrome's activation is sticky, so the frame after a click will do).
  addFunction(prefix("VoiceResume"), () => status(() => void voice().resume()));
  // str1 peer id, or "" for the own microphone: "0".."100", or a negative code.
  addFunction(prefix("VoiceGetLevel"), (peerId) => {
    try {
      return String(peerId ? voice().level(peerId) : voice().localLevel());
    } catch {
      return String(ErrorCode.InvalidState);
    }
  });
}

/** Forwards `voice`'s track events to C#. */
export function forwardVoiceEvents(voice: Voice): void {
  voice.onTrack((id) => callback(prefix("HandleOnVoiceTrack"), id));
  voice.onEnded((id) => callback(prefix("HandleOnVoiceEnded"), id));
}
