#if !UNITY_WEBGL || UNITY_EDITOR
using System;
using WebRtcP2p.Internal;
using WebRtcP2p.Native;

namespace WebRtcP2p
{
    /// <summary>
    /// One remote member's voice: decoded as it arrives into a short buffer that the app pulls PCM
    /// from on its audio thread (<see cref="Read(float[], int, int)"/>, e.g. from OnAudioFilterRead).
    /// Valid until its peer connection closes; afterwards reads give silence.
    /// </summary>
    public sealed unsafe class RtcAudioTrack
    {
        private volatile bool released;
        private readonly int handle;

        /// <summary>The member this voice comes from.</summary>
        public string PeerId { get; private set; }

        /// <summary>Gain applied by <see cref="Read(float[], int, int)"/> (per-peer volume): 0 mutes this
        /// peer locally, 1 is as sent.</summary>
        public float Volume { get; set; }

        internal RtcAudioTrack(int handle, string peerId)
        {
            this.handle = handle;
            PeerId = peerId;
            Volume = 1f;
        }

        /// <summary>
        /// Fills all of <paramref name="buffer"/> (interleaved, <paramref name="channels"/> per frame) with
        /// this peer's audio at <paramref name="sampleRate"/>, mixed to that channel count. Returns how
        /// many samples were the peer's audio; the rest is silence (nothing arrived yet, the peer is
        /// muted, the buffer ran dry, or the connection closed). Never blocks; no exception for a closed
        /// track, so it is safe in an audio callback.
        /// </summary>
        /// <exception cref="ArgumentException">A rate outside 8000..192000 Hz or channels outside 1..8.</exception>
        public int Read(float[] buffer, int sampleRate, int channels)
        {
            if (buffer == null)
            {
                throw new ArgumentNullException("buffer");
            }
            if (released)
            {
                Array.Clear(buffer, 0, buffer.Length);
                return 0;
            }
            int decoded;
            fixed (float* b = buffer)
            {
                decoded = NativeMethods.p2p_track_read_pcm(handle, b, buffer.Length, sampleRate, channels);
            }
            if (decoded == ErrorCodes.InvalidHandle)
            {
                released = true;
                Array.Clear(buffer, 0, buffer.Length);
                return 0;
            }
            NativeResult.Check(decoded);
            var volume = Volume;
            if (volume != 1f)
            {
                for (var i = 0; i < buffer.Length; i++)
                {
                    buffer[i] *= volume;
                }
            }
            return decoded;
        }

        /// <summary>Loudness of the last ~100 ms as the peer sent it (before <see cref="Volume"/>), 0..100
        /// on a dB scale: for speaking indicators (speech is typically 40–80). 0 once closed.</summary>
        public int Level
        {
            get
            {
                if (released)
                {
                    return 0;
                }
                var level = NativeMethods.p2p_track_get_level(handle);
                return level < 0 ? 0 : level;
            }
        }

        /// <summary>Reception figures (loss, jitter, buffered audio). Throws PeerClientException once closed.</summary>
        public AudioTrackStats GetStats()
        {
            var json = Utf8.ReadOut((b, n) => NativeMethods.p2p_track_get_stats(handle, (byte*)b, n), 512);
            return AudioTrackStats.FromJson(JsonReader.Parse(json) as System.Collections.Generic.Dictionary<string, object>);
        }

        internal void Release()
        {
            released = true;
        }
    }
}
#endif
