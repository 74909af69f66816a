using System;

namespace WebRtcP2p.Reactive
{
    /// <summary>
    /// <c>Subscribe(Action&lt;T&gt;)</c> for apps without UniRx or System.Reactive. It lives in its own
    /// namespace so that it never clashes with UniRx's extension of the same name.
    /// </summary>
    public static class ObservableExtensions
    {
        public static IDisposable Subscribe<T>(this IObservable<T> source, Action<T> onNext)
        {
            if (source == null)
            {
                throw new ArgumentNullException("source");
            }
            if (onNext == null)
            {
                throw new ArgumentNullException("onNext");
            }
            return source.Subscribe(new ActionObserver<T>(onNext));
        }

        private sealed class ActionObserver<T> : IObserver<T>
        {
            private readonly Action<T> onNext;

            public ActionObserver(Action<T> onNext)
            {
                this.onNext = onNext;
            }

            public void OnNext(T value) { onNext(value); }
            public void OnError(Exception error) { PeerClientLog.Exception(error); }
            public void OnCompleted() { }
        }
    }
}
