#if UNITY_5_3_OR_NEWER && (!UNITY_WEBGL || UNITY_EDITOR)
using UnityEngine;

namespace WebRtcP2p
{
    /// <summary>
    /// Feeds a Unity microphone into a <see cref="PeerAudioSource"/>: drop it on a GameObject, then add
    /// <see cref="Source"/> to each peer connection in the pc-create hook. Reads what the microphone
    /// recorded since the last frame every Update and pushes it (a frame's worth of latency; the
    /// native side cuts 20 ms Opus frames). <see cref="Muted"/> stops sending without releasing the
    /// microphone.
    /// </summary>
    public class MicrophoneSource : MonoBehaviour
    {
        /// <summary>Microphone device name; empty for the default device.</summary>
        public string device = "";

        /// <summary>Opus bitrate in bits/s; 0 for the default (~32 kb/s for voice).</summary>
        public int bitrate = 0;

        private AudioClip clip;
        private int lastPosition;
        private float[] buffer = new float[0];

        /// <summary>The source to add to peer connections; made in Awake, so it exists before any hook runs.</summary>
        public PeerAudioSource Source { get; private set; }

        /// <summary>While true the peers hear silence (their speaking indicators fall to 0).</summary>
        public bool Muted
        {
            get { return Source != null && Source.Muted; }
            set { if (Source != null) Source.Muted = value; }
        }

        private string Device { get { return string.IsNullOrEmpty(device) ? null : device; } }

        private void Awake()
        {
            int min, max;
            Microphone.GetDeviceCaps(Device, out min, out max);
            // 0/0 means any rate; otherwise take the highest the device offers up to Opus's 48 kHz.
            var rate = max == 0 ? 48000 : Mathf.Clamp(max, 8000, 48000);
            clip = Microphone.Start(Device, true, 1, rate);
            Source = new PeerAudioSource(clip.frequency, clip.channels, bitrate);
        }

        private void Update()
        {
            if (clip == null || Source == null)
            {
                return;
            }
            var position = Microphone.GetPosition(Device);
            if (position < 0 || position == lastPosition)
            {
                return;
            }
            // The clip is a 1 s ring: read up to its end, then from its start.
            if (position < lastPosition)
            {
                Push(lastPosition, clip.samples - lastPosition);
                lastPosition = 0;
            }
            Push(lastPosition, position - lastPosition);
            lastPosition = position;
        }

        private void Push(int offset, int frames)
        {
            if (frames <= 0)
            {
                return;
            }
            var count = frames * clip.channels;
            if (buffer.Length != count)
            {
                buffer = new float[count];
            }
            clip.GetData(buffer, offset);
            Source.Push(buffer);
        }

        private void OnDestroy()
        {
            Microphone.End(Device);
            if (Source != null)
            {
                Source.Dispose();
            }
        }
    }
}
#endif
