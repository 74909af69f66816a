using System.Threading;

namespace WebRtcP2p
{
    /// <summary>Makes the PeerClient for the platform, as in the seed.</summary>
    public static class PeerClientProvider
    {
        /// <summary>
        /// The native client (a WebGL player is not supported yet: the browser client is pending).
        /// Call it on the thread that should receive events (Unity's main thread).
        /// </summary>
        public static PeerClient Provide(PeerConfig peerConfig)
        {
#if UNITY_WEBGL && !UNITY_EDITOR
            // The browser client (web/ and its jslib bridge) is not part of this package yet.
            throw new System.PlatformNotSupportedException("webrtc_p2p: the WebGL PeerClient is not available yet");
#else
            return new NativePeerClient(peerConfig, SynchronizationContext.Current);
#endif
        }
    }
}
