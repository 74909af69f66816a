#if !UNITY_WEBGL || UNITY_EDITOR
using System;
using WebRtcP2p.Internal;
using WebRtcP2p.Native;

namespace WebRtcP2p
{
    /// <summary>
    /// One voice going out: an Opus encoder the app feeds with PCM (one microphone). Add it to any
    /// number of peer connections in the pc-create hook (<see cref="RtcPeerConnection.AddAudioSource"/>):
    /// the audio is encoded once and sent on each. Not tied to a client; dispose it when done.
    /// </summary>
    public sealed unsafe class PeerAudioSource : IDisposable
    {
        private readonly object gate = new object();
        private int handle;

        /// <summary>The rate <see cref="Push(float[])"/> expects, Hz.</summary>
        public int SampleRate { get; private set; }

        /// <summary>Interleaved channels per frame (1 or 2).</summary>
        public int Channels { get; private set; }

        /// <summary>While true, <see cref="Push(float[])"/> drops what it is given: the peers hear silence
        /// (their level meters fall to 0 within ~100 ms) and no bandwidth is used.</summary>
        public bool Muted { get; set; }

        /// <param name="sampleRate">8000..48000 Hz (Unity's output or microphone rate).</param>
        /// <param name="channels">1 or 2.</param>
        /// <param name="bitrate">Bits per second (6000..510000), 0 for Opus's default.</param>
        /// <exception cref="ArgumentException">A rate, channel count or bitrate out of range.</exception>
        public PeerAudioSource(int sampleRate, int channels = 1, int bitrate = 0)
        {
            handle = NativeResult.Check(NativeMethods.p2p_audio_source_create(sampleRate, channels, bitrate));
            SampleRate = sampleRate;
            Channels = channels;
        }

        internal int Handle
        {
            get
            {
                lock (gate)
                {
                    if (handle == 0)
                    {
                        throw new ObjectDisposedException("PeerAudioSource");
                    }
                    return handle;
                }
            }
        }

        /// <summary>Queues interleaved PCM in [-1, 1] (a whole number of frames). Never blocks on encoding
        /// or the network: call it from the audio thread or the main thread, in real time.</summary>
        public void Push(float[] samples)
        {
            if (samples == null)
            {
                throw new ArgumentNullException("samples");
            }
            Push(samples, 0, samples.Length);
        }

        /// <summary>Queues <paramref name="count"/> samples of <paramref name="samples"/> from <paramref name="offset"/>.</summary>
        public void Push(float[] samples, int offset, int count)
        {
            if (samples == null)
            {
                throw new ArgumentNullException("samples");
            }
            if (offset < 0 || count < 0 || offset > samples.Length - count)
            {
                throw new ArgumentOutOfRangeException("count", "offset and count must lie within samples");
            }
            if (Muted || count == 0)
            {
                return;
            }
            fixed (float* s = samples)
            {
                NativeResult.Check(NativeMethods.p2p_audio_source_push(Handle, s + offset, count));
            }
        }

        /// <summary>Stops the encoder; connections it was added to stay up and send no more audio.</summary>
        public void Dispose()
        {
            int h;
            lock (gate)
            {
                h = handle;
                handle = 0;
            }
            if (h != 0)
            {
                NativeMethods.p2p_audio_source_destroy(h);
            }
        }
    }
}
#endif
