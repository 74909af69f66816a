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

    /// <summary>The P2P_ERR_* codes of include/webrtc_p2p.h.</summary>
    public static class ErrorCodes
    {
        public const int InvalidArgument = -1;
        public const int InvalidHandle = -2;
        public const int InvalidConfig = -3;
        public const int InvalidState = -4;
        public const int ConnectFailed = -5;
        public const int HostExists = -6;
        public const int StartFailed = -7;
        public const int Rejected = -8;
        public const int Timeout = -9;
        public const int Closed = -10;
        public const int Rtc = -11;
        public const int Panic = -12;
        public const int WouldBlock = -13;
    }
}
