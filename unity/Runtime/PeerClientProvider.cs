using System.Threading;

namespace WebRtcP2p
{
    /// <summary>Makes the PeerClient for the platform, as in the seed.</summary>
    public static class PeerClientProvider
    {
        /// <summary>
        /// The native client everywhere but in a WebGL player, where the browser's WebRTC is used
        /// (WebGLPeerClient over the web package's PeerAdapter).
        /// Call it on the thread that should receive events (Unity's main thread).
        /// </summary>
        public static PeerClient Provide(PeerConfig peerConfig)
        {
#if UNITY_WEBGL && !UNITY_EDITOR
            return new WebGLPeerClient(peerConfig);
#else
            return new NativePeerClient(peerConfig, SynchronizationContext.Current);
#endif
        }
    }
}
