#if !UNITY_WEBGL || UNITY_EDITOR
using System;
using AOT;
using WebRtcP2p.Native;

namespace WebRtcP2p.Internal
{
    /// <summary>
    /// The only managed code the native library calls. Static methods (IL2CPP can marshal nothing
    /// else) held by static delegates (never collected, so no native pointer outlives its delegate);
    /// user_data is a HandleTable key, so a callback for a disposed object finds nothing and returns.
    /// No exception may cross into native code: each one is caught and reported.
    /// </summary>
    internal static unsafe class Trampolines
    {
        public static readonly NativeMethods.p2p_client_set_event_callback_cb_delegate Event = OnEvent;
        public static readonly NativeMethods.p2p_client_add_pc_create_hook_cb_delegate PcCreate = OnPcCreate;
        public static readonly NativeMethods.p2p_client_add_pc_close_hook_cb_delegate PcClose = OnPcClose;
        public static readonly NativeMethods.p2p_client_start_host_result_cb_delegate StartHostResult = OnStartHostResult;
        public static readonly NativeMethods.p2p_client_list_hosts_result_cb_delegate ListHostsResult = OnListHostsResult;
        public static readonly NativeMethods.p2p_client_start_client_result_cb_delegate StartClientResult = OnStartClientResult;
        public static readonly NativeMethods.p2p_client_request_stats_result_cb_delegate StatsResult = OnStatsResult;
        public static readonly NativeMethods.p2p_pc_set_data_channel_callback_cb_delegate RemoteChannel = OnRemoteChannel;
        public static readonly NativeMethods.p2p_pc_set_track_callback_cb_delegate RemoteTrack = OnRemoteTrack;
        public static readonly NativeMethods.p2p_dc_set_callbacks_on_open_delegate ChannelOpen = OnChannelOpen;
        public static readonly NativeMethods.p2p_dc_set_callbacks_on_close_delegate ChannelClose = OnChannelClose;
        public static readonly NativeMethods.p2p_dc_set_callbacks_on_message_delegate ChannelMessage = OnChannelMessage;

        [MonoPInvokeCallback(typeof(NativeMethods.p2p_client_set_event_callback_cb_delegate))]
        private static void OnEvent(void* userData, int client, int eventCode, byte* arg)
        {
            Deliver<NativePeerClient>(userData, target => target.HandleEvent(eventCode, Utf8.FromC(arg)));
        }

        [MonoPInvokeCallback(typeof(NativeMethods.p2p_client_add_pc_create_hook_cb_delegate))]
        private static void OnPcCreate(void* userData, int client, byte* peerId, bool isOffer, int pc)
        {
            Deliver<NativePeerClient>(userData, target => target.HandlePcCreate(Utf8.FromC(peerId), isOffer, pc));
        }

        [MonoPInvokeCallback(typeof(NativeMethods.p2p_client_add_pc_close_hook_cb_delegate))]
        private static void OnPcClose(void* userData, int client, byte* peerId)
        {
            Deliver<NativePeerClient>(userData, target => target.HandlePcClose(Utf8.FromC(peerId)));
        }

        [MonoPInvokeCallback(typeof(NativeMethods.p2p_client_start_host_result_cb_delegate))]
        private static void OnStartHostResult(void* userData, int request, int status, byte* json)
        {
            Complete(userData, status, json);
        }

        [MonoPInvokeCallback(typeof(NativeMethods.p2p_client_list_hosts_result_cb_delegate))]
        private static void OnListHostsResult(void* userData, int request, int status, byte* json)
        {
            Complete(userData, status, json);
        }

        [MonoPInvokeCallback(typeof(NativeMethods.p2p_client_start_client_result_cb_delegate))]
        private static void OnStartClientResult(void* userData, int request, int status, byte* json)
        {
            Complete(userData, status, json);
        }

        [MonoPInvokeCallback(typeof(NativeMethods.p2p_client_request_stats_result_cb_delegate))]
        private static void OnStatsResult(void* userData, int request, int status, byte* json)
        {
            Complete(userData, status, json);
        }

        /// <summary>Finds the target of a callback and runs <paramref name="action"/> on it; nothing escapes.</summary>
        private static void Deliver<T>(void* userData, Action<T> action) where T : class
        {
            try
            {
                var target = HandleTable.Get<T>(userData);
                if (target != null)
                {
                    action(target);
                }
            }
            catch (Exception e)
            {
                PeerClientLog.Exception(e);
            }
        }

        private static void Complete(void* userData, int status, byte* json)
        {
            try
            {
                var request = HandleTable.Get<PendingRequest>(userData);
                if (request == null)
                {
                    return;
                }
                var text = Utf8.FromC(json);
                if (status == ErrorCodes.HostExists || status < 0)
                {
                    request.Fail(PeerClientException.For(status, ErrorMessage(text) ?? ("request failed with code " + status)));
                }
                else
                {
                    request.Succeed(text);
                }
            }
            catch (Exception e)
            {
                PeerClientLog.Exception(e);
            }
        }

        /// <summary>The "error" member of a failed request's JSON, if there is one.</summary>
        private static string ErrorMessage(string json)
        {
            try
            {
                var d = JsonReader.Parse(json) as System.Collections.Generic.Dictionary<string, object>;
                object message;
                return d != null && d.TryGetValue("error", out message) ? message as string : null;
            }
            catch (FormatException)
            {
                return json;
            }
        }

        [MonoPInvokeCallback(typeof(NativeMethods.p2p_pc_set_data_channel_callback_cb_delegate))]
        private static void OnRemoteChannel(void* userData, int dc)
        {
            Deliver<RtcPeerConnection>(userData, pc => pc.HandleRemoteChannel(dc));
        }

        [MonoPInvokeCallback(typeof(NativeMethods.p2p_pc_set_track_callback_cb_delegate))]
        private static void OnRemoteTrack(void* userData, int pc, int track)
        {
            Deliver<RtcPeerConnection>(userData, target => target.HandleRemoteTrack(track));
        }

        [MonoPInvokeCallback(typeof(NativeMethods.p2p_dc_set_callbacks_on_open_delegate))]
        private static void OnChannelOpen(void* userData, int dc)
        {
            Deliver<RtcDataChannel>(userData, channel => channel.HandleOpen());
        }

        [MonoPInvokeCallback(typeof(NativeMethods.p2p_dc_set_callbacks_on_close_delegate))]
        private static void OnChannelClose(void* userData, int dc)
        {
            Deliver<RtcDataChannel>(userData, channel => channel.HandleClose());
        }

        [MonoPInvokeCallback(typeof(NativeMethods.p2p_dc_set_callbacks_on_message_delegate))]
        private static void OnChannelMessage(void* userData, int dc, byte* data, int len, bool isText)
        {
            Deliver<RtcDataChannel>(userData, channel => channel.HandleMessage(data, len));
        }
    }
}
#endif
