using System;
using System.Collections.Generic;
using WebRtcP2p.Internal;

namespace WebRtcP2p
{
    /// <summary>One side of the selected candidate pair.</summary>
    public sealed class CandidateInfo
    {
        /// <summary>"host" (direct), "srflx" (through a NAT, via STUN), "prflx" (learned from the peer's checks) or "relay" (TURN).</summary>
        public string Type { get; private set; }
        /// <summary>"udp" or "tcp".</summary>
        public string Protocol { get; private set; }
        public string Address { get; private set; }
        public int Port { get; private set; }

        internal static CandidateInfo From(object json)
        {
            var d = json as Dictionary<string, object>;
            if (d == null) return null;
            return new CandidateInfo
            {
                Type = StatsJson.Str(d, "type"),
                Protocol = StatsJson.Str(d, "protocol"),
                Address = StatsJson.Str(d, "address"),
                Port = (int)StatsJson.Num(d, "port"),
            };
        }

        public override string ToString() { return Type + "/" + Protocol + " " + Address + ":" + Port; }
    }

    /// <summary>Traffic of one data channel (payload bytes, per message).</summary>
    public sealed class DataChannelStats
    {
        public string Label { get; private set; }
        /// <summary>The SCTP stream id.</summary>
        public int Id { get; private set; }
        /// <summary>"connecting", "open", "closing" or "closed".</summary>
        public string State { get; private set; }
        public long MessagesSent { get; private set; }
        public long BytesSent { get; private set; }
        public long MessagesReceived { get; private set; }
        public long BytesReceived { get; private set; }

        internal static DataChannelStats From(Dictionary<string, object> d)
        {
            return new DataChannelStats
            {
                Label = StatsJson.Str(d, "label"),
                Id = (int)StatsJson.Num(d, "id"),
                State = StatsJson.Str(d, "state"),
                MessagesSent = (long)StatsJson.Num(d, "messagesSent"),
                BytesSent = (long)StatsJson.Num(d, "bytesSent"),
                MessagesReceived = (long)StatsJson.Num(d, "messagesReceived"),
                BytesReceived = (long)StatsJson.Num(d, "bytesReceived"),
            };
        }
    }

    /// <summary>Reception of one remote audio track (the JSON of p2p_track_get_stats).</summary>
    public sealed class AudioTrackStats
    {
        /// <summary>The sender's track id.</summary>
        public string TrackId { get; private set; }
        public long PacketsReceived { get; private set; }
        /// <summary>Packets never received (expected by sequence number minus received, RFC 3550).</summary>
        public long PacketsLost { get; private set; }
        /// <summary>Packets that came after their turn (or twice) and were dropped.</summary>
        public long PacketsLate { get; private set; }
        /// <summary>Interarrival jitter (RFC 3550), ms.</summary>
        public double JitterMs { get; private set; }
        /// <summary>Decoded audio waiting to be read, ms: the receive-side delay.</summary>
        public double BufferedMs { get; private set; }
        /// <summary>Audio synthesised by loss concealment, ms.</summary>
        public double ConcealedMs { get; private set; }
        /// <summary>Reads that ran dry while playing (audible gaps).</summary>
        public long Underruns { get; private set; }
        /// <summary>The sender ended the track.</summary>
        public bool Ended { get; private set; }

        internal static AudioTrackStats From(Dictionary<string, object> d)
        {
            object ended;
            return new AudioTrackStats
            {
                TrackId = StatsJson.Str(d, "trackId"),
                PacketsReceived = (long)StatsJson.Num(d, "packetsReceived"),
                PacketsLost = (long)StatsJson.Num(d, "packetsLost"),
                PacketsLate = (long)StatsJson.Num(d, "packetsLate"),
                JitterMs = StatsJson.Num(d, "jitterMs"),
                BufferedMs = StatsJson.Num(d, "bufferedMs"),
                ConcealedMs = StatsJson.Num(d, "concealedMs"),
                Underruns = (long)StatsJson.Num(d, "underruns"),
                Ended = d.TryGetValue("ended", out ended) && ended is bool && (bool)ended,
            };
        }

        internal static AudioTrackStats FromJson(Dictionary<string, object> d)
        {
            if (d == null)
            {
                throw new PeerClientException(ErrorCodes.Rtc, "track stats are not a JSON object");
            }
            return From(d);
        }
    }

    /// <summary>
    /// The health of the link to one member: the JSON of p2p_pc_get_stats (include/webrtc_p2p.h
    /// documents every field), typed. The same summary the Rust API (PeerStats) and the web client
    /// (getStats()) give.
    /// </summary>
    public sealed class PeerStats
    {
        /// <summary>The remote member's id.</summary>
        public string PeerId { get; private set; }
        /// <summary>RTCPeerConnectionState: "new", "connecting", "connected", "disconnected", "failed", "closed".</summary>
        public string ConnectionState { get; private set; }
        /// <summary>RTCIceConnectionState: "new", "checking", "connected", "completed", "disconnected", "failed", "closed".</summary>
        public string IceState { get; private set; }
        /// <summary>Our side of the candidate pair ICE selected; null until there is one.</summary>
        public CandidateInfo LocalCandidate { get; private set; }
        /// <summary>The remote side of the selected pair; null until there is one.</summary>
        public CandidateInfo RemoteCandidate { get; private set; }
        /// <summary>Current round-trip time on the selected pair in ms; null until measured.</summary>
        public double? RttMs { get; private set; }
        /// <summary>DTLS/SCTP bytes sent on the selected pair, headers included.</summary>
        public long BytesSent { get; private set; }
        public long BytesReceived { get; private set; }
        public List<DataChannelStats> DataChannels { get; private set; }
        /// <summary>One entry per remote audio track of this link.</summary>
        public List<AudioTrackStats> Audio { get; private set; }

        /// <summary>Reads one stats object (throws PeerClientException on JSON that is not one).</summary>
        public static PeerStats Parse(string json)
        {
            return From(Parsed(json) as Dictionary<string, object>, json);
        }

        /// <summary>Reads an array of stats objects (p2p_client_get_stats).</summary>
        public static List<PeerStats> ParseList(string json)
        {
            var list = Parsed(json) as List<object>;
            if (list == null)
            {
                throw new PeerClientException(ErrorCodes.Rtc, "stats are not a JSON array: " + json);
            }
            var all = new List<PeerStats>();
            foreach (var item in list)
            {
                all.Add(From(item as Dictionary<string, object>, json));
            }
            return all;
        }

        internal static async System.Threading.Tasks.Task<List<PeerStats>> ParseListAsync(System.Threading.Tasks.Task<string> json)
        {
            return ParseList(await json.ConfigureAwait(false));
        }

        /// <summary>One stats object already parsed by JsonReader (the WebGL client's reply).</summary>
        internal static PeerStats FromParsed(object item)
        {
            return From(item as Dictionary<string, object>, "(stats item)");
        }

        public override string ToString()
        {
            var pair = LocalCandidate == null || RemoteCandidate == null ? "no pair" : LocalCandidate.Type + "/" + LocalCandidate.Protocol + " -> " + RemoteCandidate.Type;
            var rtt = RttMs.HasValue ? RttMs.Value.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture) + " ms" : "rtt ?";
            return PeerId + " " + ConnectionState + " " + pair + " " + rtt;
        }

        private static object Parsed(string json)
        {
            try
            {
                return JsonReader.Parse(json);
            }
            catch (FormatException e)
            {
                throw new PeerClientException(ErrorCodes.Rtc, "malformed stats JSON: " + e.Message);
            }
        }

        private static PeerStats From(Dictionary<string, object> d, string json)
        {
            if (d == null)
            {
                throw new PeerClientException(ErrorCodes.Rtc, "stats are not a JSON object: " + json);
            }
            var stats = new PeerStats
            {
                PeerId = StatsJson.Str(d, "peerId"),
                ConnectionState = StatsJson.Str(d, "connectionState"),
                IceState = StatsJson.Str(d, "iceState"),
                BytesSent = (long)StatsJson.Num(d, "bytesSent"),
                BytesReceived = (long)StatsJson.Num(d, "bytesReceived"),
                DataChannels = new List<DataChannelStats>(),
                Audio = new List<AudioTrackStats>(),
            };
            object v;
            if (d.TryGetValue("rttMs", out v) && v is double)
            {
                stats.RttMs = (double)v;
            }
            var pair = d.TryGetValue("selectedPair", out v) ? v as Dictionary<string, object> : null;
            if (pair != null)
            {
                object side;
                stats.LocalCandidate = pair.TryGetValue("local", out side) ? CandidateInfo.From(side) : null;
                stats.RemoteCandidate = pair.TryGetValue("remote", out side) ? CandidateInfo.From(side) : null;
            }
            foreach (var item in StatsJson.Items(d, "dataChannels"))
            {
                stats.DataChannels.Add(DataChannelStats.From(item));
            }
            foreach (var item in StatsJson.Items(d, "audio"))
            {
                stats.Audio.Add(AudioTrackStats.From(item));
            }
            return stats;
        }
    }
}

namespace WebRtcP2p.Internal
{
    /// <summary>Lenient field access on parsed stats JSON: a missing or mistyped field reads as empty/0.</summary>
    internal static class StatsJson
    {
        public static string Str(Dictionary<string, object> d, string key)
        {
            object v;
            return d.TryGetValue(key, out v) && v is string ? (string)v : "";
        }

        public static double Num(Dictionary<string, object> d, string key)
        {
            object v;
            return d.TryGetValue(key, out v) && v is double ? (double)v : 0;
        }

        public static IEnumerable<Dictionary<string, object>> Items(Dictionary<string, object> d, string key)
        {
            object v;
            var list = d.TryGetValue(key, out v) ? v as List<object> : null;
            if (list == null) yield break;
            foreach (var item in list)
            {
                var o = item as Dictionary<string, object>;
                if (o != null) yield return o;
            }
        }
    }
}
