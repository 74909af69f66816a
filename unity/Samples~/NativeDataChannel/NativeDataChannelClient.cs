#if !UNITY_WEBGL || UNITY_EDITOR
using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using WebRtcP2p;

namespace WebRtcP2p.Samples
{
    /// <summary>
    /// The seed's NativeDataChannelClient, ported: the offerer creates the "sample" channel in the
    /// pc-create hook, the answerer takes it in OnDataChannel, the close hook closes it. Changes from
    /// the seed: the namespace and type names (RtcPeerConnection, RtcDataChannel), a lock (hooks run
    /// on a library thread, channel handlers on the app's thread), and Received/SendToAll so a scene
    /// (or a test) can use it.
    /// </summary>
    public class NativeDataChannelClient
    {
        private static readonly string Label = "sample";

        private readonly Dictionary<string, RtcDataChannel> dcDict = new Dictionary<string, RtcDataChannel>();

        /// <summary>(peer id, text) of each message, raised on the app's thread.</summary>
        public event Action<string, string> Received;

        public NativeDataChannelClient(NativePeerClient peerClient)
        {
            peerClient.AddPcCreateHook(CreatePc);
            peerClient.AddPcCloseHook(ClosePc);
        }

        public int OpenCount
        {
            get
            {
                lock (dcDict)
                {
                    return dcDict.Values.Count(dc => dc.ReadyState == RtcDataChannelState.Open);
                }
            }
        }

        public void SendToAll(string text)
        {
            List<RtcDataChannel> channels;
            lock (dcDict)
            {
                channels = dcDict.Values.Where(dc => dc.ReadyState == RtcDataChannelState.Open).ToList();
            }
            channels.ForEach(dc => dc.Send(text));
        }

        private void CreatePc(string id, bool isOffer, RtcPeerConnection pc)
        {
            lock (dcDict)
            {
                if (dcDict.ContainsKey(id))
                {
                    return;
                }
            }

            if (isOffer)
            {
                var dc = pc.CreateDataChannel(Label);
                HandleDc(id, dc);
            }
            else
            {
                pc.OnDataChannel += (dc) => HandleDc(id, dc);
            }
        }

        private void HandleDc(string id, RtcDataChannel dc)
        {
            if (dc.Label != Label)
            {
                return;
            }
            lock (dcDict)
            {
                dcDict[id] = dc;
            }
            dc.OnMessage = message =>
            {
                var received = Received;
                if (received != null)
                {
                    received(id, Encoding.UTF8.GetString(message));
                }
            };
        }

        private void ClosePc(string id)
        {
            RtcDataChannel dc;
            lock (dcDict)
            {
                if (!dcDict.TryGetValue(id, out dc))
                {
                    return;
                }
                dcDict.Remove(id);
            }
            dc.Close();
        }

        public void Clear()
        {
            List<string> ids;
            lock (dcDict)
            {
                ids = dcDict.Keys.ToList();
            }
            ids.ForEach(ClosePc);
        }
    }
}
#endif
