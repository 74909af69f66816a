#if !UNITY_WEBGL || UNITY_EDITOR
using System;
using System.Collections.Generic;
using System.Linq;
using WebRtcP2p;

namespace WebRtcP2p.Samples
{
    /// <summary>
    /// The idea of Extreal's voice chat sample on this package: every member sends one microphone to
    /// every other member (the pc-create hook adds the source, either side), keeps each member's track
    /// (OnTrack; dropped in the close hook), and offers mute, per-member volume and speaking levels.
    /// Unity-free, so a scene (VoiceChatScene) or a test drives it; the scene plays each track through a
    /// RemoteAudioTrackPlayer.
    /// </summary>
    public class VoiceChatClient
    {
        private readonly PeerAudioSource source;
        private readonly Dictionary<string, RtcAudioTrack> tracks = new Dictionary<string, RtcAudioTrack>();
        private readonly Dictionary<string, int> lastLevels = new Dictionary<string, int>();

        /// <summary>A member's voice arrived (on the app's thread): give it a player.</summary>
        public event Action<string, RtcAudioTrack> TrackAdded;

        /// <summary>A member left: destroy its player.</summary>
        public event Action<string> TrackRemoved;

        /// <summary>(member id, level 0..100) whenever a level changed, raised by <see cref="PollLevels"/>:
        /// Extreal's OnAudioLevelChanged, for speaking indicators.</summary>
        public event Action<string, int> AudioLevelChanged;

        public VoiceChatClient(NativePeerClient peerClient, PeerAudioSource source)
        {
            this.source = source;
            peerClient.AddPcCreateHook(CreatePc);
            peerClient.AddPcCloseHook(ClosePc);
        }

        /// <summary>Whether our microphone is muted.</summary>
        public bool Muted { get { return source.Muted; } }

        /// <summary>Mutes or unmutes our microphone; returns the new state (Extreal's ToggleMute).</summary>
        public bool ToggleMute()
        {
            source.Muted = !source.Muted;
            return source.Muted;
        }

        /// <summary>Sets how loud <paramref name="peerId"/> plays here (0 mutes them locally).</summary>
        public void SetVolume(string peerId, float volume)
        {
            RtcAudioTrack track;
            lock (tracks)
            {
                tracks.TryGetValue(peerId, out track);
            }
            if (track != null)
            {
                track.Volume = volume;
            }
        }

        /// <summary>The member ids we hear.</summary>
        public List<string> Peers
        {
            get { lock (tracks) { return tracks.Keys.ToList(); } }
        }

        /// <summary>The track of <paramref name="peerId"/>, or null.</summary>
        public RtcAudioTrack TrackOf(string peerId)
        {
            lock (tracks)
            {
                RtcAudioTrack t;
                return tracks.TryGetValue(peerId, out t) ? t : null;
            }
        }

        /// <summary>Reads every member's level and raises AudioLevelChanged for those that changed (call it
        /// each frame, or a few times a second).</summary>
        public void PollLevels()
        {
            List<KeyValuePair<string, RtcAudioTrack>> all;
            lock (tracks)
            {
                all = tracks.ToList();
            }
            foreach (var pair in all)
            {
                var level = pair.Value.Level;
                int last;
                if (lastLevels.TryGetValue(pair.Key, out last) && last == level)
                {
                    continue;
                }
                lastLevels[pair.Key] = level;
                var handler = AudioLevelChanged;
                if (handler != null)
                {
                    handler(pair.Key, level);
                }
            }
        }

        private void CreatePc(string id, bool isOffer, RtcPeerConnection pc)
        {
            pc.AddAudioSource(source);
            pc.OnTrack += track =>
            {
                lock (tracks)
                {
                    tracks[id] = track;
                }
                var handler = TrackAdded;
                if (handler != null)
                {
                    handler(id, track);
                }
            };
        }

        private void ClosePc(string id)
        {
            bool removed;
            lock (tracks)
            {
                removed = tracks.Remove(id);
            }
            lastLevels.Remove(id);
            var handler = TrackRemoved;
            if (removed && handler != null)
            {
                handler(id);
            }
        }
    }
}
#endif
