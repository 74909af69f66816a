#if UNITY_5_3_OR_NEWER && (!UNITY_WEBGL || UNITY_EDITOR)
using UnityEngine;

namespace WebRtcP2p
{
    /// <summary>
    /// Plays one remote member's voice through this GameObject's AudioSource: Unity calls
    /// OnAudioFilterRead on its audio thread and the player fills the buffer from the track (never
    /// blocking; silence when nothing arrived). Add it (with an AudioSource) per remote track, e.g.
    /// from <see cref="RtcPeerConnection.OnTrack"/>, and set <see cref="Track"/>. The AudioSource plays a
    /// silent looping clip so that Unity runs the filter; the voice replaces it (2D: set spatialBlend 0).
    /// </summary>
    [RequireComponent(typeof(AudioSource))]
    public class RemoteAudioTrackPlayer : MonoBehaviour
    {
        /// <summary>Per-peer volume, 0 (muted) to 2.</summary>
        [Range(0f, 2f)]
        public float volume = 1f;

        /// <summary>Mutes this peer locally (the others still hear it).</summary>
        public bool muted;

        private int outputRate;
        private volatile RtcAudioTrack track;

        /// <summary>The voice to play; null plays silence.</summary>
        public RtcAudioTrack Track
        {
            get { return track; }
            set { track = value; }
        }

        /// <summary>The peer's loudness (0..100) for a speaking indicator; 0 without a track.</summary>
        public int Level { get { var t = track; return t == null ? 0 : t.Level; } }

        private void Awake()
        {
            // Read here: AudioSettings may not be touched from the audio thread.
            outputRate = AudioSettings.outputSampleRate;
            var source = GetComponent<AudioSource>();
            source.clip = AudioClip.Create("p2p-voice", outputRate, 1, outputRate, false);
            source.loop = true;
            source.Play();
        }

        private void Update()
        {
            var t = track;
            if (t != null)
            {
                t.Volume = muted ? 0f : volume;
            }
        }

        private void OnAudioFilterRead(float[] data, int channels)
        {
            var t = track;
            if (t == null)
            {
                System.Array.Clear(data, 0, data.Length);
                return;
            }
            try
            {
                t.Read(data, outputRate, channels);
            }
            catch (System.Exception)
            {
                System.Array.Clear(data, 0, data.Length);
            }
        }
    }
}
#endif
