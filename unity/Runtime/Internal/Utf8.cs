using System;
using System.Text;

namespace WebRtcP2p.Internal
{
    /// <summary>UTF-8 conversions at the C boundary (strings in are NUL-terminated, out are copied).</summary>
    internal static unsafe class Utf8
    {
        private static readonly UTF8Encoding Strict = new UTF8Encoding(false, true);

        /// <summary>The NUL-terminated bytes of <paramref name="s"/>; rejects embedded NULs.</summary>
        public static byte[] ToC(string s, string name)
        {
            if (s == null)
            {
                throw new ArgumentNullException(name);
            }
            if (s.IndexOf('\0') >= 0)
            {
                throw new ArgumentException(name + " contains a NUL character", name);
            }
            var bytes = new byte[Strict.GetByteCount(s) + 1];
            Strict.GetBytes(s, 0, s.Length, bytes, 0);
            return bytes;
        }

        /// <summary>A managed copy of a NUL-terminated string the library passed (null for NULL).</summary>
        public static string FromC(byte* p)
        {
            if (p == null)
            {
                return null;
            }
            var n = 0;
            while (p[n] != 0)
            {
                n++;
            }
            return Encoding.UTF8.GetString(p, n);
        }

        /// <summary>
        /// Calls a "copy into buffer, return the size needed" export, growing the buffer once if needed.
        /// </summary>
        public static string ReadOut(Func<IntPtr, int, int> read)
        {
            return ReadOut(read, 256);
        }

        /// <summary>
        /// ReadOut starting with <paramref name="initial"/> bytes. Values that move between calls (stats)
        /// get a retry with a quarter more than the size asked for.
        /// </summary>
        public static string ReadOut(Func<IntPtr, int, int> read, int initial)
        {
            var buffer = new byte[initial];
            for (var attempt = 0; attempt < 3; attempt++)
            {
                int needed;
                fixed (byte* b = buffer)
                {
                    needed = read((IntPtr)b, buffer.Length);
                }
                if (needed < 0)
                {
                    throw NativeResult.Error(needed);
                }
                if (needed <= buffer.Length)
                {
                    return Encoding.UTF8.GetString(buffer, 0, Math.Max(0, needed - 1));
                }
                buffer = new byte[attempt == 0 ? needed : needed + needed / 4];
            }
            throw new PeerClientException(ErrorCodes.InvalidState, "the value kept growing while it was read");
        }
    }
}
