using System;
using System.Collections.Generic;

namespace WebRtcP2p
{
    /// <summary>
    /// The IObservable behind each PeerClient event. The package does not depend on UniRx or
    /// System.Reactive; both subscribe to a plain IObservable, so seed code using UniRx works as is.
    /// Raised on the app's thread only (see PeerClient), so no locking around handlers is needed there.
    /// </summary>
    internal sealed class EventSubject<T> : IObservable<T>
    {
        private readonly object gate = new object();
        private List<IObserver<T>> observers = new List<IObserver<T>>();
        private bool completed;

        public IDisposable Subscribe(IObserver<T> observer)
        {
            if (observer == null)
            {
                throw new ArgumentNullException("observer");
            }
            lock (gate)
            {
                if (completed)
                {
                    observer.OnCompleted();
                    return new Subscription(this, null);
                }
                // Copy on write: OnNext iterates a snapshot, so handlers may (un)subscribe while raised.
                observers = new List<IObserver<T>>(observers) { observer };
            }
            return new Subscription(this, observer);
        }

        public void OnNext(T value)
        {
            List<IObserver<T>> snapshot;
            lock (gate)
            {
                snapshot = observers;
            }
            foreach (var o in snapshot)
            {
                try
                {
                    o.OnNext(value);
                }
                catch (Exception e)
                {
                    PeerClientLog.Exception(e);
                }
            }
        }

        public void OnCompleted()
        {
            List<IObserver<T>> snapshot;
            lock (gate)
            {
                completed = true;
                snapshot = observers;
                observers = new List<IObserver<T>>();
            }
            foreach (var o in snapshot)
            {
                try
                {
                    o.OnCompleted();
                }
                catch (Exception e)
                {
                    PeerClientLog.Exception(e);
                }
            }
        }

        private void Unsubscribe(IObserver<T> observer)
        {
            lock (gate)
            {
                var next = new List<IObserver<T>>(observers);
                next.Remove(observer);
                observers = next;
            }
        }

        private sealed class Subscription : IDisposable
        {
            private EventSubject<T> subject;
            private readonly IObserver<T> observer;

            public Subscription(EventSubject<T> subject, IObserver<T> observer)
            {
                this.subject = subject;
                this.observer = observer;
            }

            public void Dispose()
            {
                var s = subject;
                subject = null;
                if (s != null && observer != null)
                {
                    s.Unsubscribe(observer);
                }
            }
        }
    }
}
