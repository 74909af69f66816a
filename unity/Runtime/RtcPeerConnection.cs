#if !UNITY_WEBGL || UNITY_EDITOR
using System;
using System.Collections.Generic;
using WebRtcP2p.Internal;
using WebRtcP2p.Native;

namespace WebRtcP2p
{
    public delegate void DelegateOnDataChannel(RtcDataChannel channel);
    public delegate void DelegateOnTrack(RtcAudioTrack track);

    /// <summary>
    /// The peer connection to one member of the group, handed to pc-create hooks. Names follow
    /// Unity.WebRTC's RTCPeerConnection so that seed hooks port by renaming the type.
    /// </summary>
    public sealed unsafe class RtcPeerConnection
    {
        private readonly NativePeerClient owner;
        private readonly int handle;
        private readonly int key;
        private readonly object gate = new object();
        private readonly List<RtcDataChannel> channels = new List<RtcDataChannel>();
        private readonly List<RtcAudioTrack> tracks = new List<RtcAudioTrack>();
        private bool released;

        /// <summary>The remote member's id.</summary>
        public string PeerId { get; private set; }

        /// <summary>
        /// Raised on the app's thread for each channel the remote side creates (channels that arrive
        /// before a handler is set are kept and raised once one is). Use <c>+=</c> as with Unity.WebRTC.
        /// </summary>
        public DelegateOnDataChannel OnDataChannel { get; set; }

        /// <summary>
        /// Raised on the app's thread for each audio track the remote member sends (tracks that arrive
        /// before a handler is set are kept and raised once one is). Pull its audio with
        /// <see cref="RtcAudioTrack.Read(float[], int, int)"/>, e.g. through <c>RemoteAudioTrackPlayer</c>.
        /// </summary>
        public DelegateOnTrack OnTrack { get; set; }

        internal RtcPeerConnection(NativePeerClient owner, int handle, string peerId)
        {
            this.owner = owner;
            this.handle = handle;
            PeerId = peerId;
            key = HandleTable.Add(this);
            var result = NativeMethods.p2p_pc_set_data_channel_callback(handle, Trampolines.RemoteChannel, (void*)key);
            if (result < 0)
            {
                PeerClientLog.Exception(NativeResult.Error(result));
            }
            result = NativeMethods.p2p_pc_set_track_callback(handle, Trampolines.RemoteTrack, (void*)key);
            if (result < 0)
            {
                PeerClientLog.Exception(NativeResult.Error(result));
            }
        }

        /// <summary>
        /// Sends <paramref name="source"/> to this member. Call it in the pc-create hook (either side) so
        /// the offer or answer carries it; a source is added at most once per connection.
        /// </summary>
        public void AddAudioSource(PeerAudioSource source)
        {
            if (source == null)
            {
                throw new ArgumentNullException("source");
            }
            NativeResult.Check(NativeMethods.p2p_pc_add_audio_source(handle, source.Handle));
        }

        /// <summary>
        /// Creates a data channel. Call it in the pc-create hook (isOffer true) so it is part of the offer.
        /// </summary>
        public RtcDataChannel CreateDataChannel(string label, RtcDataChannelInit init = null)
        {
            var labelBytes = Utf8.ToC(label, "label");
            var native = init == null ? default(p2p_data_channel_init) : init.ToNative();
            var protocolBytes = init != null && init.protocol != null ? Utf8.ToC(init.protocol, "protocol") : null;
            int dc;
            fixed (byte* l = labelBytes)
            fixed (byte* p = protocolBytes)
            {
                native.protocol = p;
                dc = NativeResult.Check(NativeMethods.p2p_pc_create_data_channel(handle, l, init == null ? null : &native));
            }
            return Track(new RtcDataChannel(owner, dc, label));
        }

        /// <summary>
        /// The health of this link (see PeerStats) on the calling thread: p2p_pc_get_stats, local work
        /// bounded by 1 s (microseconds in practice). Throws PeerClientException once the connection closed.
        /// </summary>
        public PeerStats GetStats()
        {
            return PeerStats.Parse(Utf8.ReadOut((b, n) => NativeMethods.p2p_pc_get_stats(handle, (byte*)b, n), 2048));
        }

        /// <summary>GetStats off the calling thread.</summary>
        public System.Threading.Tasks.Task<PeerStats> GetStatsAsync()
        {
            return System.Threading.Tasks.Task.Run(() => GetStats());
        }

        internal void HandleRemoteChannel(int dc)
        {
            string label;
            try
            {
                label = Utf8.ReadOut((b, n) => NativeMethods.p2p_dc_get_label(dc, (byte*)b, n));
            }
            catch (PeerClientException)
            {
                return; // closed while arriving
            }
            var channel = Track(new RtcDataChannel(owner, dc, label));
            owner.Post(() =>
            {
                var handler = OnDataChannel;
                if (handler != null)
                {
                    handler(channel);
                }
            });
        }

        internal void HandleRemoteTrack(int track)
        {
            var audio = new RtcAudioTrack(track, PeerId);
            lock (gate)
            {
                if (released)
                {
                    return;
                }
                tracks.Add(audio);
            }
            owner.Post(() =>
            {
                var handler = OnTrack;
                if (handler != null)
                {
                    handler(audio);
                }
            });
        }

        private RtcDataChannel Track(RtcDataChannel channel)
        {
            lock (gate)
            {
                if (!released)
                {
                    channels.Add(channel);
                    return channel;
                }
            }
            channel.Release();
            return channel;
        }

        /// <summary>The library closed this connection and freed its handles: close the channels too.</summary>
        internal void Release()
        {
            List<RtcDataChannel> all;
            List<RtcAudioTrack> audio;
            lock (gate)
            {
                if (released)
                {
                    return;
                }
                released = true;
                all = new List<RtcDataChannel>(channels);
                channels.Clear();
                audio = new List<RtcAudioTrack>(tracks);
                tracks.Clear();
            }
            HandleTable.Remove(key);
            foreach (var c in all)
            {
                c.Release();
            }
            foreach (var t in audio)
            {
                t.Release();
            }
        }
    }
}
#endif
