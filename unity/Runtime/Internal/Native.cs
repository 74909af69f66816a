using System.Collections.Generic;
using WebRtcP2p.Native;

namespace WebRtcP2p.Internal
{
    /// <summary>Turns native error codes into exceptions carrying this thread's last-error message.</summary>
    internal static unsafe class NativeResult
    {
        public static PeerClientException Error(int code)
        {
            var message = LastError();
            if (string.IsNullOrEmpty(message))
            {
                message = "native call failed with code " + code;
            }
            return PeerClientException.For(code, message);
        }

        /// <summary>Returns <paramref name="result"/> when it is not an error; throws otherwise.</summary>
        public static int Check(int result)
        {
            if (result < 0)
            {
                throw Error(result);
            }
            return result;
        }

        public static string LastError()
        {
            var buffer = new byte[1024];
            fixed (byte* b = buffer)
            {
                var needed = NativeMethods.p2p_get_last_error(b, buffer.Length);
                return needed <= 1 ? "" : Utf8.FromC(b);
            }
        }
    }

    /// <summary>
    /// Managed objects the library's callbacks refer to. Native code holds only an integer key (its
    /// user_data), never a GCHandle or a delegate per call, so a late or stray callback finds nothing
    /// instead of touching a collected object, and the static trampolines stay the only entry points.
    /// </summary>
    internal static unsafe class HandleTable
    {
        private static readonly object Gate = new object();
        private static readonly Dictionary<int, object> Objects = new Dictionary<int, object>();
        private static int next;

        public static int Add(object target)
        {
            lock (Gate)
            {
                do
                {
                    next = next == int.MaxValue ? 1 : next + 1;
                } while (Objects.ContainsKey(next));
                Objects[next] = target;
                return next;
            }
        }

        public static T Get<T>(void* key) where T : class
        {
            object target;
            lock (Gate)
            {
                Objects.TryGetValue((int)(long)key, out target);
            }
            return target as T;
        }

        public static void Remove(int key)
        {
            lock (Gate)
            {
                Objects.Remove(key);
            }
        }

        public static int Count
        {
            get
            {
                lock (Gate)
                {
                    return Objects.Count;
                }
            }
        }
    }
}
