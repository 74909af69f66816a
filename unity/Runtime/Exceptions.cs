using System;

namespace WebRtcP2p
{
    /// <summary>A failure reported by the native library: <see cref="Code"/> is its P2P_ERR_* code.</summary>
    public class PeerClientException : Exception
    {
        public int Code { get; private set; }

        public PeerClientException(int code, string message) : base(message)
        {
            Code = code;
        }

        /// <summary>The exception for a P2P_ERR_* code: HostNameAlreadyExistsException for a taken name.</summary>
        internal static PeerClientException For(int code, string message)
        {
            return code == ErrorCodes.HostExists ? new HostNameAlreadyExistsException(message) : new PeerClientException(code, message);
        }
    }

    /// <summary>StartHostAsync with a name another host already uses (the server's 409).</summary>
    public class HostNameAlreadyExistsException : PeerClientException
    {
        public HostNameAlreadyExistsException(string message) : base(ErrorCodes.HostExists, message)
        {
        }
    }
}
