#if UNITY_5_3_OR_NEWER && (!UNITY_WEBGL || UNITY_EDITOR)
using System;
using System.Collections.Generic;
using UnityEngine;
using WebRtcP2p;

namespace WebRtcP2p.Samples
{
    /// <summary>
    /// A one-script scene: host a group or join one, then chat over the "sample" channel. Put it on an
    /// empty GameObject; start the signaling server with `bash scripts/demo.sh` from the repository.
    /// </summary>
    public class SampleScene : MonoBehaviour
    {
        public string signalingUrl = "http://127.0.0.1:3010";
        public string groupName = "unity room";

        private NativePeerClient peerClient;
        private NativeDataChannelClient chat;
        private readonly List<string> lines = new List<string>();
        private List<Host> hosts = new List<Host>();
        private string input = "";

        private void Start()
        {
            peerClient = (NativePeerClient)PeerClientProvider.Provide(new PeerConfig(signalingUrl));
            chat = new NativeDataChannelClient(peerClient);
            chat.Received += (id, text) => lines.Add(id + ": " + text);
            peerClient.OnStarted.Subscribe(new Log(lines, "started"));
            peerClient.OnUserConnected.Subscribe(new Log(lines, "connected"));
            peerClient.OnUserDisconnecting.Subscribe(new Log(lines, "left"));
            peerClient.OnConnectFailed.Subscribe(new Log(lines, "connect failed"));
        }

        private async void Host()
        {
            try { await peerClient.StartHostAsync(groupName); }
            catch (Exception e) { lines.Add(e.Message); }
        }

        private async void Refresh()
        {
            try { hosts = await peerClient.ListHostsAsync(); }
            catch (Exception e) { lines.Add(e.Message); }
        }

        private async void Join(string hostId)
        {
            try { await peerClient.StartClientAsync(hostId); }
            catch (Exception e) { lines.Add(e.Message); }
        }

        private void OnGUI()
        {
            GUILayout.BeginVertical();
            groupName = GUILayout.TextField(groupName);
            if (GUILayout.Button("Host")) Host();
            if (GUILayout.Button("List hosts")) Refresh();
            foreach (var h in hosts)
            {
                if (GUILayout.Button("Join " + h.Name)) Join(h.Id);
            }
            input = GUILayout.TextField(input);
            if (GUILayout.Button("Send")) chat.SendToAll(input);
            if (GUILayout.Button("Stop")) peerClient.Stop();
            foreach (var l in lines) GUILayout.Label(l);
            GUILayout.EndVertical();
        }

        private void OnDestroy()
        {
            peerClient.Dispose();
        }

        private sealed class Log : IObserver<string>
        {
            private readonly List<string> lines;
            private readonly string what;
            public Log(List<string> lines, string what) { this.lines = lines; this.what = what; }
            public void OnNext(string arg) { lines.Add(what + " " + arg); }
            public void OnError(Exception e) { }
            public void OnCompleted() { }
        }
    }
}
#endif
