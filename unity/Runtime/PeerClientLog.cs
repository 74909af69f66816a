using System;
using AOT;
using WebRtcP2p.Internal;
using WebRtcP2p.Native;

namespace WebRtcP2p
{
    /// <summary>Levels of the native library's log lines (P2P_LOG_*).</summary>
    public enum PeerLogLevel
    {
        None = 0,
        Error = 1,
        Warning = 2,
        Info = 3,
        Debug = 4,
        Verbose = 5,
    }

    /// <summary>
    /// Where the package reports what it cannot throw: exceptions from app handlers and hooks, and
    /// the native library's log lines. Defaults to Unity's console in Unity, stderr elsewhere.
    /// </summary>
    public static unsafe class PeerClientLog
    {
        private static readonly NativeMethods.p2p_set_log_callback_cb_delegate LogTrampoline = OnNativeLog;
        private static volatile Action<PeerLogLevel, string> nativeHandler;

        /// <summary>Called with every exception thrown by an app handler or hook.</summary>
        public static Action<Exception> OnException { get; set; } = DefaultException;

        /// <summary>
        /// Routes the native library's log lines at <paramref name="level"/> and more severe to
        /// <paramref name="handler"/>, called from library threads (Unity's Debug.Log is safe there).
        /// Null or PeerLogLevel.None turns it off.
        /// </summary>
        public static void SetNativeLogHandler(Action<PeerLogLevel, string> handler, PeerLogLevel level)
        {
            nativeHandler = handler;
            var on = handler != null && level != PeerLogLevel.None;
            NativeResult.Check(NativeMethods.p2p_set_log_callback(on ? LogTrampoline : null, null, on ? (int)level : 0));
        }

        internal static void Exception(Exception e)
        {
            var report = OnException;
            try
            {
                if (report != null)
                {
                    report(e);
                }
            }
            catch
            {
                // The reporter itself failed; there is nowhere left to report to.
            }
        }

        private static void DefaultException(Exception e)
        {
#if UNITY_5_3_OR_NEWER
            UnityEngine.Debug.LogException(e);
#else
            Console.Error.WriteLine("webrtc_p2p: unhandled exception in a handler: " + e);
#endif
        }

        [MonoPInvokeCallback(typeof(NativeMethods.p2p_set_log_callback_cb_delegate))]
        private static void OnNativeLog(void* userData, int level, byte* message)
        {
            try
            {
                var handler = nativeHandler;
                if (handler != null)
                {
                    handler((PeerLogLevel)level, Utf8.FromC(message));
                }
            }
            catch (Exception e)
            {
                Exception(e);
            }
        }
    }
}
