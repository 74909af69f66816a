using System;
using System.Collections.Generic;
using System.Threading.Tasks;

namespace WebRtcP2p
{
    /// <summary>What this client is in its group.</summary>
    public enum PeerRole
    {
        None = RoleCodes.None,
        Host = RoleCodes.Host,
        Client = RoleCodes.Client,
    }

    /// <summary>A group listed by the signaling server: Id is the host's socket id.</summary>
    public class Host
    {
        public string Id { get; private set; }
        public string Name { get; private set; }

        public Host(string id, string name)
        {
            Id = id;
            Name = name;
        }

        public override string ToString() { return Name + " (" + Id + ")"; }
    }

    /// <summary>
    /// A member of a full-mesh WebRTC group: host one (StartHostAsync) or join one (ListHostsAsync,
    /// StartClientAsync). The API of the seed's PeerClient; NativePeerClient (native library) and
    /// WebGLPeerClient (the browser's WebRTC) implement it. PeerClientProvider picks one.
    ///
    /// Events are raised on the app's thread: the SynchronizationContext current when the client was
    /// made (Unity's main thread), or — with none — the thread that calls DispatchEvents().
    /// </summary>
    public abstract class PeerClient : IDisposable
    {
        private readonly EventSubject<string> onStarted = new EventSubject<string>();
        private readonly EventSubject<string> onStartFailed = new EventSubject<string>();
        private readonly EventSubject<string> onConnectFailed = new EventSubject<string>();
        private readonly EventSubject<string> onDisconnected = new EventSubject<string>();
        private readonly EventSubject<string> onUserConnecting = new EventSubject<string>();
        private readonly EventSubject<string> onUserConnected = new EventSubject<string>();
        private readonly EventSubject<string> onUserDisconnecting = new EventSubject<string>();
        private readonly EventSubject<string> onReconnected = new EventSubject<string>();

        /// <summary>Hosting: the group exists. Joining: the host's "done" came and the link to it is up. Arg: own id.</summary>
        public IObservable<string> OnStarted { get { return onStarted; } }

        /// <summary>StartClientAsync did not complete within the P2P timeout. Arg: the reason.</summary>
        public IObservable<string> OnStartFailed { get { return onStartFailed; } }

        /// <summary>The signaling server could not be reached. Arg: the reason.</summary>
        public IObservable<string> OnConnectFailed { get { return onConnectFailed; } }

        /// <summary>
        /// The signaling connection dropped (once per drop; not raised by Stop). P2P links stay up and
        /// the client reconnects (OnReconnected). Arg: the reason.
        /// </summary>
        public IObservable<string> OnDisconnected { get { return onDisconnected; } }

        /// <summary>A peer connection to this peer id was created.</summary>
        public IObservable<string> OnUserConnecting { get { return onUserConnecting; } }

        /// <summary>The peer connection to this peer id is connected.</summary>
        public IObservable<string> OnUserConnected { get { return onUserConnected; } }

        /// <summary>The peer connection to this peer id is closing.</summary>
        public IObservable<string> OnUserDisconnecting { get { return onUserDisconnecting; } }

        /// <summary>
        /// The signaling connection is back after OnDisconnected; P2P links were kept, and a host has
        /// re-created its group under its name. Arg: the new own id (a host's new HostId).
        /// </summary>
        public IObservable<string> OnReconnected { get { return onReconnected; } }

        public abstract bool IsRunning { get; }
        public abstract PeerRole Role { get; }

        /// <summary>The host's id while in a group (own id when hosting), else null.</summary>
        public abstract string HostId { get; }

        /// <summary>Own socket id while connected to the signaling server, else null.</summary>
        public abstract string ClientId { get; }

        /// <summary>Creates the group <paramref name="name"/>; throws HostNameAlreadyExistsException if taken.</summary>
        public abstract Task StartHostAsync(string name);

        public abstract Task<List<Host>> ListHostsAsync();

        /// <summary>Joins the group of <paramref name="hostId"/>; completes when started, throws on the P2P timeout.</summary>
        public abstract Task StartClientAsync(string hostId);

        /// <summary>
        /// The health of every link (state, selected candidate pair, RTT, traffic per data channel; see
        /// PeerStats), sorted by peer id; empty when not in a group. Local work only, cheap enough to
        /// call every second from a game loop.
        /// </summary>
        public abstract Task<List<PeerStats>> GetStatsAsync();

        /// <summary>Leaves the group: bye to every peer, every connection closed, signaling disconnected.</summary>
        public abstract void Stop();

        /// <summary>Raises the queued events on the calling thread (only needed without a SynchronizationContext).</summary>
        public abstract int DispatchEvents();

        public abstract void Dispose();

        /// <summary>Raises the event numbered as in P2P_EVENT_* (1 started … 7 user disconnecting, 8 reconnected).</summary>
        protected void Raise(int eventCode, string arg)
        {
            switch (eventCode)
            {
                case EventCodes.Started: onStarted.OnNext(arg); break;
                case EventCodes.StartFailed: onStartFailed.OnNext(arg); break;
                case EventCodes.ConnectFailed: onConnectFailed.OnNext(arg); break;
                case EventCodes.Disconnected: onDisconnected.OnNext(arg); break;
                case EventCodes.UserConnecting: onUserConnecting.OnNext(arg); break;
                case EventCodes.UserConnected: onUserConnected.OnNext(arg); break;
                case EventCodes.UserDisconnecting: onUserDisconnecting.OnNext(arg); break;
                case EventCodes.Reconnected: onReconnected.OnNext(arg); break;
            }
        }

        /// <summary>Ends every event stream (on Dispose).</summary>
        protected void CompleteEvents()
        {
            onStarted.OnCompleted();
            onStartFailed.OnCompleted();
            onConnectFailed.OnCompleted();
            onDisconnected.OnCompleted();
            onUserConnecting.OnCompleted();
            onUserConnected.OnCompleted();
            onUserDisconnecting.OnCompleted();
            onReconnected.OnCompleted();
        }
    }
}
