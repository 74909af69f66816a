using System;
using System.Collections.Generic;
using System.Text;
using WebRtcP2p.Internal;

namespace WebRtcP2p
{
    /// <summary>
    /// Socket.IO options of the signaling connection (the seed took SocketIOClient's options; only
    /// these two matter to the protocol, so the package carries its own small type).
    /// </summary>
    public class SocketOptions
    {
        /// <summary>How long the first connect may take before ConnectFailed. Default 5 s.</summary>
        public TimeSpan ConnectionTimeout { get; set; } = TimeSpan.FromSeconds(5);

        /// <summary>
        /// Reconnect to the signaling server in the background after a drop (100 ms doubling to 5 s,
        /// with jitter): OnDisconnected, then OnReconnected. False: the next request reconnects
        /// instead. P2P links are kept either way. Default true, as in the seed.
        /// </summary>
        public bool Reconnection { get; set; } = true;

        /// <summary>
        /// PEM text of CA certificates to trust for an https:// signaling URL, besides the Mozilla
        /// roots built into the plugin (e.g. a private CA: "-----BEGIN CERTIFICATE-----\n...").
        /// Text without a certificate makes the client's constructor throw (InvalidConfig). Null by default.
        /// </summary>
        public string CaCertificatesPem { get; set; }
    }

    /// <summary>One ICE server (STUN or TURN), as in the seed.</summary>
    public class IceServerConfig
    {
        public List<string> Urls { get; private set; }
        public string Username { get; private set; }
        public string Credential { get; private set; }

        public IceServerConfig(List<string> urls, string username = "", string credential = "")
        {
            if (urls == null || urls.Count == 0)
            {
                throw new ArgumentException("an ICE server needs at least one url", "urls");
            }
            Urls = urls;
            Username = username ?? "";
            Credential = credential ?? "";
        }
    }

    /// <summary>
    /// Configuration of a PeerClient; the constructor matches the seed's
    /// <c>new PeerConfig(url, socketOptions, iceServerConfigs, p2pTimeout, vanillaIceTimeout)</c>.
    /// </summary>
    public class PeerConfig
    {
        public string SignalingUrl { get; private set; }
        public SocketOptions SocketOptions { get; private set; }
        public List<IceServerConfig> IceServerConfigs { get; private set; }

        /// <summary>How long StartClientAsync may take before OnStartFailed. Default 15 s.</summary>
        public TimeSpan P2PTimeout { get; private set; }

        /// <summary>How long a vanilla-ICE peer waits for candidate gathering. Default 5 s.</summary>
        public TimeSpan VanillaIceTimeout { get; private set; }

        /// <summary>Trickle ICE with peers that support it (true by default; false behaves like an Extreal client).</summary>
        public bool TrickleIce { get; set; } = true;

        /// <summary>
        /// Relay-only ICE (the browser's iceTransportPolicy "relay"): peers connect through the TURN
        /// servers only, hiding their addresses from each other. False (the default) allows every
        /// candidate. Needs TURN servers: from IceServerConfigs or issued by the signaling server.
        /// </summary>
        public bool RelayOnly { get; set; }

        /// <summary>
        /// Local addresses the peer connections bind (default every interface, "0.0.0.0:0").
        /// Tests use "127.0.0.1:0" to keep traffic on loopback.
        /// </summary>
        public List<string> BindAddresses { get; set; }

        /// <summary>
        /// The Socket.IO handshake auth payload as string fields, e.g. { "token", "&lt;jwt&gt;" } for a
        /// signaling server started with --jwt-secret (a refusal raises OnConnectFailed with the
        /// server's reason). Null (the default) sends none, as Extreal's server expects.
        /// </summary>
        public Dictionary<string, string> Auth { get; set; }

        public PeerConfig(
            string signalingUrl,
            SocketOptions socketOptions = null,
            List<IceServerConfig> iceServerConfigs = null,
            TimeSpan p2pTimeout = default(TimeSpan),
            TimeSpan vanillaIceTimeout = default(TimeSpan))
        {
            if (string.IsNullOrEmpty(signalingUrl))
            {
                throw new ArgumentException("the signaling URL is required", "signalingUrl");
            }
            if (p2pTimeout < TimeSpan.Zero || vanillaIceTimeout < TimeSpan.Zero)
            {
                throw new ArgumentOutOfRangeException("p2pTimeout", "timeouts must not be negative");
            }
            SignalingUrl = signalingUrl;
            SocketOptions = socketOptions ?? new SocketOptions();
            IceServerConfigs = iceServerConfigs ?? new List<IceServerConfig>();
            P2PTimeout = p2pTimeout == default(TimeSpan) ? TimeSpan.FromSeconds(15) : p2pTimeout;
            VanillaIceTimeout = vanillaIceTimeout == default(TimeSpan) ? TimeSpan.FromSeconds(5) : vanillaIceTimeout;
        }

        /// <summary>The JSON the native library takes (keys documented in the README).</summary>
        public string ToJson()
        {
            var w = new JsonWriter();
            w.BeginObject();
            w.Key("signalingUrl").String(SignalingUrl);
            w.Key("iceServers").BeginArray();
            foreach (var ice in IceServerConfigs)
            {
                w.BeginObject();
                w.Key("urls").BeginArray();
                foreach (var url in ice.Urls)
                {
                    w.String(url);
                }
                w.EndArray();
                w.Key("username").String(ice.Username);
                w.Key("credential").String(ice.Credential);
                w.EndObject();
            }
            w.EndArray();
            w.Key("p2pTimeoutMs").Number((long)P2PTimeout.TotalMilliseconds);
            w.Key("vanillaIceTimeoutMs").Number((long)VanillaIceTimeout.TotalMilliseconds);
            w.Key("trickleIce").Bool(TrickleIce);
            w.Key("iceTransportPolicy").String(RelayOnly ? "relay" : "all");
            w.Key("socket").BeginObject();
            w.Key("connectionTimeoutMs").Number((long)SocketOptions.ConnectionTimeout.TotalMilliseconds);
            w.Key("reconnection").Bool(SocketOptions.Reconnection);
            if (SocketOptions.CaCertificatesPem != null)
            {
                w.Key("caCertificatesPem").String(SocketOptions.CaCertificatesPem);
            }
            w.EndObject();
            if (BindAddresses != null)
            {
                w.Key("bindAddresses").BeginArray();
                foreach (var a in BindAddresses)
                {
                    w.String(a);
                }
                w.EndArray();
            }
            if (Auth != null)
            {
                w.Key("auth").BeginObject();
                foreach (var field in Auth)
                {
                    w.Key(field.Key).String(field.Value);
                }
                w.EndObject();
            }
            w.EndObject();
            return w.ToString();
        }
    }
}
