#if !UNITY_WEBGL || UNITY_EDITOR
using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using WebRtcP2p.Internal;
using WebRtcP2p.Native;

namespace WebRtcP2p
{
    /// <summary>
    /// PeerClient on the native library (libwebrtc_p2p): Windows, macOS, Linux, Android, iOS and the editor.
    ///
    /// Threads: pc hooks run inline on a library thread, before the offer or answer is made, so the
    /// channels they create are part of it; a client's hooks never run concurrently with each other.
    /// Events, remote channels, channel open/close and messages are queued and raised on the app's
    /// thread (see PeerClient). Tasks complete from a library thread; `await` resumes on the caller's
    /// context as usual.
    /// </summary>
    public sealed unsafe class NativePeerClient : PeerClient
    {
        private readonly int handle;
        private readonly int key;
        private readonly EventDispatcher dispatcher;
        private readonly object gate = new object();
        private List<Action<string, bool, RtcPeerConnection>> createHooks = new List<Action<string, bool, RtcPeerConnection>>();
        private List<Action<string>> closeHooks = new List<Action<string>>();
        private readonly Dictionary<string, RtcPeerConnection> connections = new Dictionary<string, RtcPeerConnection>();
        private readonly HashSet<PendingRequest> pending = new HashSet<PendingRequest>();
        private volatile bool disposed;

        /// <param name="config">the configuration</param>
        /// <param name="context">where events are raised; null queues them for DispatchEvents()</param>
        public NativePeerClient(PeerConfig config, SynchronizationContext context)
        {
            if (config == null)
            {
                throw new ArgumentNullException("config");
            }
            dispatcher = new EventDispatcher(context);
            fixed (byte* json = Utf8.ToC(config.ToJson(), "config"))
            {
                handle = NativeResult.Check(NativeMethods.p2p_client_create(json));
            }
            key = HandleTable.Add(this);
            var userData = (void*)key;
            try
            {
                NativeResult.Check(NativeMethods.p2p_client_set_event_callback(handle, Trampolines.Event, userData));
                NativeResult.Check(NativeMethods.p2p_client_add_pc_create_hook(handle, Trampolines.PcCreate, userData));
                NativeResult.Check(NativeMethods.p2p_client_add_pc_close_hook(handle, Trampolines.PcClose, userData));
            }
            catch
            {
                NativeMethods.p2p_client_destroy(handle);
                HandleTable.Remove(key);
                throw;
            }
        }

        /// <summary>Same as PeerClientProvider.Provide on native platforms: events go to the current context.</summary>
        public NativePeerClient(PeerConfig config) : this(config, SynchronizationContext.Current)
        {
        }

        /// <summary>
        /// Adds a hook run for every new peer connection, inline on a library thread, before negotiation:
        /// create data channels here (the offerer, isOffer true) or set OnDataChannel (the answerer).
        /// An exception from a hook is reported to PeerClientLog and the connection goes on.
        /// </summary>
        public void AddPcCreateHook(Action<string, bool, RtcPeerConnection> hook)
        {
            if (hook == null)
            {
                throw new ArgumentNullException("hook");
            }
            lock (gate)
            {
                createHooks = new List<Action<string, bool, RtcPeerConnection>>(createHooks) { hook };
            }
        }

        /// <summary>Adds a hook run once when a peer connection closes, inline on a library thread.</summary>
        public void AddPcCloseHook(Action<string> hook)
        {
            if (hook == null)
            {
                throw new ArgumentNullException("hook");
            }
            lock (gate)
            {
                closeHooks = new List<Action<string>>(closeHooks) { hook };
            }
        }

        public override bool IsRunning
        {
            get { return !disposed && NativeResult.Check(NativeMethods.p2p_client_is_running(handle)) == 1; }
        }

        public override PeerRole Role
        {
            get { return disposed ? PeerRole.None : (PeerRole)NativeResult.Check(NativeMethods.p2p_client_get_role(handle)); }
        }

        public override string HostId
        {
            get { return ReadId((b, n) => NativeMethods.p2p_client_get_host_id(handle, (byte*)b, n)); }
        }

        public override string ClientId
        {
            get { return ReadId((b, n) => NativeMethods.p2p_client_get_id(handle, (byte*)b, n)); }
        }

        public override Task StartHostAsync(string name)
        {
            var bytes = Utf8.ToC(name, "name");
            return Request(userData =>
            {
                fixed (byte* n = bytes)
                {
                    return NativeMethods.p2p_client_start_host(handle, n, Trampolines.StartHostResult, (void*)userData);
                }
            });
        }

        public override Task<List<Host>> ListHostsAsync()
        {
            return HostList.ParseAsync(Request(userData => NativeMethods.p2p_client_list_hosts(handle, Trampolines.ListHostsResult, (void*)userData)));
        }

        public override Task StartClientAsync(string hostId)
        {
            var bytes = Utf8.ToC(hostId, "hostId");
            return Request(userData =>
            {
                fixed (byte* h = bytes)
                {
                    return NativeMethods.p2p_client_start_client(handle, h, Trampolines.StartClientResult, (void*)userData);
                }
            });
        }

        public override Task<List<PeerStats>> GetStatsAsync()
        {
            return PeerStats.ParseListAsync(Request(userData => NativeMethods.p2p_client_request_stats(handle, Trampolines.StatsResult, (void*)userData)));
        }

        /// <summary>
        /// The same as GetStatsAsync, on the calling thread (p2p_client_get_stats: local work, bounded
        /// by 1 s, microseconds in practice): for a game loop that reads the links every frame or second.
        /// </summary>
        public List<PeerStats> GetStats()
        {
            ThrowIfDisposed();
            return PeerStats.ParseList(Utf8.ReadOut((b, n) => NativeMethods.p2p_client_get_stats(handle, (byte*)b, n), 4096));
        }

        /// <summary>Leaves the group. Blocks up to 5 s while byes go out and connections close.</summary>
        public override void Stop()
        {
            ThrowIfDisposed();
            NativeResult.Check(NativeMethods.p2p_client_stop(handle));
        }

        public override int DispatchEvents()
        {
            return dispatcher.Drain();
        }

        /// <summary>
        /// Stops and frees the native client (blocks up to 5 s). Afterwards no callback reaches managed
        /// code, queued events are dropped, pending tasks fail with ObjectDisposedException and every
        /// event stream completes. Safe to call twice.
        /// </summary>
        public override void Dispose()
        {
            lock (gate)
            {
                if (disposed)
                {
                    return;
                }
                disposed = true;
            }
            dispatcher.Close();
            NativeMethods.p2p_client_destroy(handle);
            HandleTable.Remove(key);
            List<RtcPeerConnection> open;
            List<PendingRequest> waiting;
            lock (gate)
            {
                open = new List<RtcPeerConnection>(connections.Values);
                connections.Clear();
                waiting = new List<PendingRequest>(pending);
                pending.Clear();
            }
            foreach (var pc in open)
            {
                pc.Release();
            }
            foreach (var request in waiting)
            {
                request.Fail(new ObjectDisposedException("NativePeerClient"));
            }
            CompleteEvents();
        }

        /// <summary>
        /// Destroys every native client and stops the library's threads (p2p_shutdown; blocks up to
        /// ~7 s). Unity calls it on quit and before a domain reload; other hosts (a console app under
        /// Mono or .NET) call it before exiting, or the library's threads keep the process alive.
        /// Clients made before are unusable afterwards; new ones may be made.
        /// </summary>
        public static void ShutdownLibrary()
        {
            NativeResult.Check(NativeMethods.p2p_shutdown());
        }

        internal void Post(Action action)
        {
            dispatcher.Post(action);
        }

        // ---- called by Trampolines on library threads ----

        internal void HandleEvent(int eventCode, string arg)
        {
            dispatcher.Post(() => Raise(eventCode, arg));
        }

        internal void HandlePcCreate(string peerId, bool isOffer, int pcHandle)
        {
            var pc = new RtcPeerConnection(this, pcHandle, peerId);
            List<Action<string, bool, RtcPeerConnection>> hooks;
            lock (gate)
            {
                if (disposed)
                {
                    pc.Release();
                    return;
                }
                connections[peerId] = pc;
                hooks = createHooks;
            }
            foreach (var hook in hooks)
            {
                try
                {
                    hook(peerId, isOffer, pc);
                }
                catch (Exception e)
                {
                    PeerClientLog.Exception(e);
                }
            }
        }

        internal void HandlePcClose(string peerId)
        {
            List<Action<string>> hooks;
            RtcPeerConnection pc;
            lock (gate)
            {
                hooks = closeHooks;
                if (connections.TryGetValue(peerId, out pc))
                {
                    connections.Remove(peerId);
                }
            }
            foreach (var hook in hooks)
            {
                try
                {
                    hook(peerId);
                }
                catch (Exception e)
                {
                    PeerClientLog.Exception(e);
                }
            }
            // The library frees the connection's handles after the close hooks: its channels are closed now.
            if (pc != null)
            {
                pc.Release();
            }
        }

        internal void Complete(PendingRequest request)
        {
            lock (gate)
            {
                pending.Remove(request);
            }
        }

        private Task<string> Request(Func<IntPtr, int> start)
        {
            ThrowIfDisposed();
            var request = new PendingRequest(this);
            lock (gate)
            {
                pending.Add(request);
            }
            int result;
            try
            {
                result = start((IntPtr)request.Key);
            }
            catch
            {
                request.Abandon();
                throw;
            }
            if (result < 0)
            {
                var error = NativeResult.Error(result);
                request.Abandon();
                throw error;
            }
            return request.Task;
        }

        private string ReadId(Func<IntPtr, int, int> read)
        {
            if (disposed)
            {
                return null;
            }
            var id = Utf8.ReadOut(read);
            return id.Length == 0 ? null : id;
        }

        private void ThrowIfDisposed()
        {
            if (disposed)
            {
                throw new ObjectDisposedException("NativePeerClient");
            }
        }
    }

    /// <summary>One asynchronous native call (start host, list, start client) waiting for its result callback.</summary>
    internal sealed class PendingRequest
    {
        private readonly NativePeerClient owner;
        private readonly TaskCompletionSource<string> tcs =
            new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Key { get; private set; }
        public Task<string> Task { get { return tcs.Task; } }

        public PendingRequest(NativePeerClient owner)
        {
            this.owner = owner;
            Key = HandleTable.Add(this);
        }

        public void Succeed(string json)
        {
            Abandon();
            tcs.TrySetResult(json);
        }

        public void Fail(Exception e)
        {
            Abandon();
            tcs.TrySetException(e);
        }

        /// <summary>Forgets the request without completing it (the native call was refused).</summary>
        public void Abandon()
        {
            HandleTable.Remove(Key);
            owner.Complete(this);
        }
    }
}
#endif
