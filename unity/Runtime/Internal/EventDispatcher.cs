using System;
using System.Collections.Concurrent;
using System.Threading;

namespace WebRtcP2p.Internal
{
    /// <summary>
    /// Moves work from library threads to the app's thread: posted to the SynchronizationContext
    /// captured when the client was made (Unity's main thread), or queued for an explicit
    /// DispatchEvents() pump when there is none. One queue per client keeps events in order.
    /// </summary>
    internal sealed class EventDispatcher
    {
        private readonly SynchronizationContext context;
        private readonly ConcurrentQueue<Action> queue = new ConcurrentQueue<Action>();
        private volatile bool closed;

        public EventDispatcher(SynchronizationContext context)
        {
            this.context = context;
        }

        public void Post(Action action)
        {
            if (closed)
            {
                return;
            }
            if (context != null)
            {
                context.Post(state => Run((Action)state), action);
            }
            else
            {
                queue.Enqueue(action);
            }
        }

        /// <summary>Runs everything queued so far on the calling thread; returns how many ran.</summary>
        public int Drain()
        {
            var ran = 0;
            Action action;
            while (!closed && queue.TryDequeue(out action))
            {
                Run(action);
                ran++;
            }
            return ran;
        }

        /// <summary>Drops whatever is queued and ignores later posts (after Dispose).</summary>
        public void Close()
        {
            closed = true;
            Action ignored;
            while (queue.TryDequeue(out ignored))
            {
            }
        }

        private void Run(Action action)
        {
            if (closed)
            {
                return;
            }
            try
            {
                action();
            }
            catch (Exception e)
            {
                // An app handler threw: report it and keep delivering, as Unity does for its own events.
                PeerClientLog.Exception(e);
            }
        }
    }
}
