#if !UNITY_WEBGL || UNITY_EDITOR
using System;
using System.Runtime.InteropServices;
using System.Threading;
using WebRtcP2p.Internal;
using WebRtcP2p.Native;

namespace WebRtcP2p
{
    public enum RtcDataChannelState
    {
        Connecting = DataChannelStates.Connecting,
        Open = DataChannelStates.Open,
        Closing = DataChannelStates.Closing,
        Closed = DataChannelStates.Closed,
    }

    public delegate void DelegateOnOpen();
    public delegate void DelegateOnClose();
    public delegate void DelegateOnMessage(byte[] bytes);

    /// <summary>
    /// Options of CreateDataChannel, named as in Unity.WebRTC's RTCDataChannelInit (lower-case fields).
    /// Leave everything unset for a reliable, ordered channel.
    /// </summary>
    public class RtcDataChannelInit
    {
        public bool? ordered;
        public int? maxPacketLifeTime;
        public int? maxRetransmits;
        public bool? negotiated;
        public int? id;
        public string protocol;

        internal p2p_data_channel_init ToNative()
        {
            if (maxPacketLifeTime.HasValue && maxRetransmits.HasValue)
            {
                throw new ArgumentException("set maxPacketLifeTime or maxRetransmits, not both");
            }
            if (maxPacketLifeTime < 0 || maxRetransmits < 0)
            {
                throw new ArgumentOutOfRangeException("maxPacketLifeTime", "must not be negative");
            }
            if (negotiated == true && !id.HasValue)
            {
                throw new ArgumentException("a negotiated channel needs an id");
            }
            return new p2p_data_channel_init
            {
                unordered = ordered == false,
                unreliable = maxPacketLifeTime.HasValue || maxRetransmits.HasValue,
                max_packet_life_time_ms = maxPacketLifeTime ?? 0,
                max_retransmits = maxRetransmits ?? 0,
                negotiated = negotiated == true,
                stream_id = id ?? 0,
            };
        }
    }

    /// <summary>
    /// A data channel, with Unity.WebRTC's RTCDataChannel names. OnOpen, OnClose and OnMessage are
    /// raised on the app's thread, in order, and only after the hook or OnDataChannel handler that
    /// received the channel has returned: handlers set there miss nothing.
    /// </summary>
    public sealed unsafe class RtcDataChannel
    {
        private readonly NativePeerClient owner;
        private readonly int handle;
        private readonly int key;
        private int closeQueued;
        private volatile bool closed;

        public string Label { get; private set; }

        public DelegateOnOpen OnOpen { get; set; }
        public DelegateOnClose OnClose { get; set; }

        /// <summary>Each message's bytes (text messages as UTF-8), on the app's thread.</summary>
        public DelegateOnMessage OnMessage { get; set; }

        internal RtcDataChannel(NativePeerClient owner, int handle, string label)
        {
            this.owner = owner;
            this.handle = handle;
            Label = label;
            key = HandleTable.Add(this);
            var result = NativeMethods.p2p_dc_set_callbacks(handle, Trampolines.ChannelOpen, Trampolines.ChannelClose, Trampolines.ChannelMessage, (void*)key);
            if (result < 0)
            {
                Release();
            }
        }

        public RtcDataChannelState ReadyState
        {
            get
            {
                if (closed)
                {
                    return RtcDataChannelState.Closed;
                }
                var state = NativeMethods.p2p_dc_get_state(handle);
                return state < 0 ? RtcDataChannelState.Closed : (RtcDataChannelState)state;
            }
        }

        /// <summary>Bytes queued and not yet acknowledged by the peer.</summary>
        public ulong BufferedAmount
        {
            get
            {
                var amount = closed ? 0 : NativeMethods.p2p_dc_get_buffered_amount(handle);
                return amount < 0 ? 0UL : (ulong)amount;
            }
        }

        /// <summary>Sends a text message. Throws PeerClientException (Code Closed) unless the channel is open.</summary>
        public void Send(string message)
        {
            if (message == null)
            {
                throw new ArgumentNullException("message");
            }
            var bytes = System.Text.Encoding.UTF8.GetBytes(message);
            Send(bytes, true);
        }

        /// <summary>Sends a binary message (at most 64 KiB). Throws a PeerClientException with
        /// ErrorCodes.WouldBlock when 16 MiB wait unsent (nothing is queued then; check BufferedAmount).</summary>
        public void Send(byte[] message)
        {
            if (message == null)
            {
                throw new ArgumentNullException("message");
            }
            Send(message, false);
        }

        public void Close()
        {
            if (closed)
            {
                return;
            }
            var result = NativeMethods.p2p_dc_close(handle);
            if (result < 0 && result != ErrorCodes.InvalidHandle && result != ErrorCodes.Closed)
            {
                throw NativeResult.Error(result);
            }
        }

        private void Send(byte[] bytes, bool isText)
        {
            if (closed)
            {
                throw new PeerClientException(ErrorCodes.Closed, "data channel '" + Label + "' is closed");
            }
            fixed (byte* b = bytes)
            {
                NativeResult.Check(NativeMethods.p2p_dc_send(handle, b, bytes.Length, isText));
            }
        }

        // ---- called by Trampolines on library threads ----

        internal void HandleOpen()
        {
            owner.Post(() =>
            {
                var handler = OnOpen;
                if (handler != null && !closed)
                {
                    handler();
                }
            });
        }

        internal void HandleMessage(byte* data, int len)
        {
            var bytes = new byte[len];
            if (len > 0)
            {
                Marshal.Copy((IntPtr)data, bytes, 0, len);
            }
            owner.Post(() =>
            {
                var handler = OnMessage;
                if (handler != null)
                {
                    handler(bytes);
                }
            });
        }

        /// <summary>Queues OnClose once, whether the channel or its whole connection closed.</summary>
        internal void HandleClose()
        {
            if (Interlocked.Exchange(ref closeQueued, 1) != 0)
            {
                return;
            }
            owner.Post(() =>
            {
                closed = true;
                var handler = OnClose;
                if (handler != null)
                {
                    handler();
                }
            });
        }

        /// <summary>The native handle is gone (its connection closed): no more callbacks, report closed.</summary>
        internal void Release()
        {
            HandleTable.Remove(key);
            HandleClose();
        }
    }
}
#endif
