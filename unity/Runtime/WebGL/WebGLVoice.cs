#if UNITY_WEBGL && !UNITY_EDITOR
using System;
using System.Globalization;
using System.Threading.Tasks;

namespace WebRtcP2p
{
    /// <summary>
    /// Voice in a WebGL player. Unity WebGL cannot hand remote WebRTC audio to OnAudioFilterRead, so
    /// the browser captures the microphone and plays every peer's voice (the web package's Voice,
    /// which the page's PeerAdapter makes; web/README.md "Voice"); this steers it through the bridge.
    /// Get it from <see cref="WebGLPeerClient.Voice"/>. Failures throw PeerClientException with the
    /// C ABI's codes.
    /// </summary>
    public sealed class WebGLVoice
    {
        private readonly WebGLPeerClient client;
        private bool muted;

        internal WebGLVoice(WebGLPeerClient client)
        {
            this.client = client;
        }

        /// <summary>A peer's voice arrived and plays (its id).</summary>
        public event Action<string> OnTrack;

        /// <summary>A peer's connection closed, and its voice with it (its id).</summary>
        public event Action<string> OnEnded;

        /// <summary>
        /// Asks the browser for the microphone (it may prompt) and sends it to every peer, now and
        /// later. <paramref name="constraintsJson"/>: getUserMedia audio constraints, or null for the
        /// browser's voice defaults (echo cancellation, noise suppression, gain control). Fails with
        /// Rejected when the microphone is refused or absent.
        /// </summary>
        public Task StartMicrophoneAsync(string constraintsJson = null)
        {
            return client.Request("DoVoiceStartAsync", "ReceiveVoiceStartResponse", constraintsJson ?? "");
        }

        /// <summary>Stops sending and releases the microphone.</summary>
        public void StopMicrophone()
        {
            Check("VoiceStop", "", "");
        }

        /// <summary>Muted: the microphone sends silence (peers' levels drop to 0).</summary>
        public bool Muted
        {
            get { return muted; }
            set
            {
                Check("VoiceSetMuted", value ? "true" : "false", "");
                muted = value;
            }
        }

        /// <summary>Playback volume of one peer, 0..1 (1 by default), for this member only.</summary>
        public void SetVolume(string peerId, float volume)
        {
            if (peerId == null) throw new ArgumentNullException("peerId");
            Check("VoiceSetVolume", peerId, volume.ToString("R", CultureInfo.InvariantCulture));
        }

        /// <summary>Speaking level of a peer's voice, 0..100 (the native RtcAudioTrack.Level scale); null: the own microphone.</summary>
        public int GetLevel(string peerId)
        {
            return Code("VoiceGetLevel", peerId ?? "", "");
        }

        /// <summary>Starts playback the browser held back for want of a user gesture: call after a click.</summary>
        public void Resume()
        {
            Check("VoiceResume", "", "");
        }

        internal void Raise(bool arrived, string peerId)
        {
            var handler = arrived ? OnTrack : OnEnded;
            if (handler != null) handler(peerId);
        }

        private static void Check(string name, string str1, string str2)
        {
            Code(name, str1, str2);
        }

        /// <summary>Calls a bridge function answering a number: a negative one is an error code.</summary>
        private static int Code(string name, string str1, string str2)
        {
            int value;
            if (!int.TryParse(WebGLPeerClient.Function(name, str1, str2), NumberStyles.Integer, CultureInfo.InvariantCulture, out value))
            {
                throw PeerClientException.For(ErrorCodes.Rtc, name + ": the page answered no number (is the web package's PeerAdapter loaded?)");
            }
            if (value < 0) throw PeerClientException.For(value, name + " failed with code " + value);
            return value;
        }
    }
}
#endif
