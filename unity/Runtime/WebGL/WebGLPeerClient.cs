#if UNITY_WEBGL && !UNITY_EDITOR
using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Threading.Tasks;
using AOT;
using WebRtcP2p.Internal;

namespace WebRtcP2p
{
    /// <summary>
    /// PeerClient in a WebGL player: the browser's WebRTC through the web package's PeerAdapter
    /// (web/src/PeerAdapter.ts), reached with the jslib in Plugins/WebGL. The page must load the web
    /// package and call <c>new PeerAdapter().adapt()</c> before this is made. Data channels are added
    /// in TypeScript with the adapter's getPeerClient() hooks, as in the seed. WebGL has one thread,
    /// so events are raised as they come; DispatchEvents has nothing to do.
    /// </summary>
    public sealed class WebGLPeerClient : PeerClient
    {
        private delegate void CallbackDelegate(string name, string str1, string str2);

        [DllImport("__Internal")] private static extern void WebRtcP2p_CallAction(string name, string str1, string str2);
        [DllImport("__Internal")] private static extern string WebRtcP2p_CallFunction(string name, string str1, string str2);
        [DllImport("__Internal")] private static extern void WebRtcP2p_SetCallback(CallbackDelegate callback);

        private const string Prefix = "WebGLPeerClient#";
        private static WebGLPeerClient current;

        private readonly Dictionary<string, TaskCompletionSource<string>> pending = new Dictionary<string, TaskCompletionSource<string>>();
        private bool disposed;

        public WebGLPeerClient(PeerConfig config)
        {
            if (config == null)
            {
                throw new ArgumentNullException("config");
            }
            current = this;
            Voice = new WebGLVoice(this);
            WebRtcP2p_SetCallback(OnCallback);
            Call("WebGLPeerConfig", config.ToJson());
        }

        /// <summary>Voice: the browser captures and plays, C# steers (microphone, mute, volume, levels).</summary>
        public WebGLVoice Voice { get; private set; }

        public override bool IsRunning { get { return !disposed && Function("IsRunning") == "true"; } }

        public override PeerRole Role
        {
            get
            {
                PeerRole role;
                return !disposed && Enum.TryParse(Function("GetRole"), out role) ? role : PeerRole.None;
            }
        }

        public override string HostId { get { return NullIfEmpty(Function("GetHostId")); } }
        public override string ClientId { get { return NullIfEmpty(Function("GetClientId")); } }

        public override Task StartHostAsync(string name)
        {
            if (name == null) throw new ArgumentNullException("name");
            return Request("DoStartHostAsync", "ReceiveStartHostResponse", name);
        }

        public override async Task<List<PeerStats>> GetStatsAsync()
        {
            var json = await Request("DoGetStatsAsync", "ReceiveGetStatsResponse", "");
            var reply = JsonReader.Parse(json) as Dictionary<string, object>;
            object list;
            var all = new List<PeerStats>();
            if (reply != null && reply.TryGetValue("stats", out list) && list is List<object>)
            {
                foreach (var item in (List<object>)list)
                {
                    all.Add(PeerStats.FromParsed(item));
                }
            }
            return all;
        }

        public override async Task<List<Host>> ListHostsAsync()
        {
            var json = await Request("DoListHostsAsync", "ReceiveListHostsResponse", "");
            var reply = JsonReader.Parse(json) as Dictionary<string, object>;
            object list;
            return reply != null && reply.TryGetValue("hosts", out list) && list is List<object>
                ? HostList.FromItems((List<object>)list)
                : new List<Host>();
        }

        public override Task StartClientAsync(string hostId)
        {
            if (hostId == null) throw new ArgumentNullException("hostId");
            return Request("DoStartClientAsync", "ReceiveStartClientResponse", hostId);
        }

        public override void Stop()
        {
            ThrowIfDisposed();
            Call("DoStop", "");
        }

        public override int DispatchEvents() { return 0; }

        public override void Dispose()
        {
            if (disposed) return;
            Call("DoStop", "");
            disposed = true;
            if (current == this) current = null;
            foreach (var p in pending.Values) p.TrySetException(new ObjectDisposedException("WebGLPeerClient"));
            pending.Clear();
            CompleteEvents();
        }

        internal Task<string> Request(string action, string reply, string arg)
        {
            ThrowIfDisposed();
            if (pending.ContainsKey(reply))
            {
                throw new InvalidOperationException(action + " is already in progress");
            }
            var tcs = new TaskCompletionSource<string>();
            pending[reply] = tcs;
            Call(action, arg);
            return tcs.Task;
        }

        private void Handle(string name, string arg)
        {
            switch (name)
            {
                case "HandleOnStarted": Raise(1, arg); break;
                case "HandleOnStartFailed": Raise(2, arg); break;
                case "HandleOnConnectFailed": Raise(3, arg); break;
                case "HandleOnDisconnected": Raise(4, arg); break;
                case "HandleOnUserConnecting": Raise(5, arg); break;
                case "HandleOnUserConnected": Raise(6, arg); break;
                case "HandleOnUserDisconnecting": Raise(7, arg); break;
                case "HandleOnVoiceTrack": Voice.Raise(true, arg); break;
                case "HandleOnVoiceEnded": Voice.Raise(false, arg); break;
                default: Complete(name, arg); break;
            }
        }

        /// <summary>A reply is JSON <c>{status: 0 | P2P_ERR_*, message?, hosts?}</c>.</summary>
        private void Complete(string reply, string json)
        {
            TaskCompletionSource<string> tcs;
            if (!pending.TryGetValue(reply, out tcs)) return;
            pending.Remove(reply);
            var d = JsonReader.Parse(json) as Dictionary<string, object>;
            object status, message;
            var code = d != null && d.TryGetValue("status", out status) && status is double ? (int)(double)status : ErrorCodes.Rejected;
            var text = d != null && d.TryGetValue("message", out message) ? message as string : null;
            if (code == 0) tcs.TrySetResult(json);
            else tcs.TrySetException(PeerClientException.For(code, text ?? ("request failed with code " + code)));
        }

        [MonoPInvokeCallback(typeof(CallbackDelegate))]
        private static void OnCallback(string name, string str1, string str2)
        {
            try
            {
                var client = current;
                if (client != null && !client.disposed && name.StartsWith(Prefix, StringComparison.Ordinal))
                {
                    client.Handle(name.Substring(Prefix.Length), str1);
                }
            }
            catch (Exception e)
            {
                PeerClientLog.Exception(e);
            }
        }

        private static void Call(string action, string arg) { WebRtcP2p_CallAction(Prefix + action, arg, ""); }
        private static string Function(string name) { return Function(name, "", ""); }
        internal static string Function(string name, string str1, string str2) { return WebRtcP2p_CallFunction(Prefix + name, str1, str2); }
        private static string NullIfEmpty(string s) { return string.IsNullOrEmpty(s) ? null : s; }

        private void ThrowIfDisposed()
        {
            if (disposed) throw new ObjectDisposedException("WebGLPeerClient");
        }
    }
}
#endif
