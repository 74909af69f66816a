#if UNITY_5_3_OR_NEWER && (!UNITY_WEBGL || UNITY_EDITOR)
using System;
using System.Collections.Generic;
using UnityEngine;
using WebRtcP2p;

namespace WebRtcP2p.Samples
{
    /// <summary>
    /// A one-script voice chat: host or join a group, talk, mute yourself, see who speaks and set each
    /// member's volume. Put it on an empty GameObject (it adds a MicrophoneSource, and one
    /// AudioSource + RemoteAudioTrackPlayer child per member); start the signaling server with
    /// `bash scripts/demo.sh` from the repository.
    /// </summary>
    [RequireComponent(typeof(MicrophoneSource))]
    public class VoiceChatScene : MonoBehaviour
    {
        public string signalingUrl = "http://127.0.0.1:3010";
        public string groupName = "voice room";

        private NativePeerClient peerClient;
        private VoiceChatClient voice;
        private readonly Dictionary<string, RemoteAudioTrackPlayer> players = new Dictionary<string, RemoteAudioTrackPlayer>();
        private readonly Dictionary<string, int> levels = new Dictionary<string, int>();
        private List<Host> hosts = new List<Host>();
        private string status = "";

        private void Start()
        {
            peerClient = (NativePeerClient)PeerClientProvider.Provide(new PeerConfig(signalingUrl));
            voice = new VoiceChatClient(peerClient, GetComponent<MicrophoneSource>().Source);
            voice.TrackAdded += (id, track) =>
            {
                var go = new GameObject("voice " + id);
                go.transform.SetParent(transform);
                go.AddComponent<AudioSource>().spatialBlend = 0f;
                var player = go.AddComponent<RemoteAudioTrackPlayer>();
                player.Track = track;
                players[id] = player;
            };
            voice.TrackRemoved += id =>
            {
                RemoteAudioTrackPlayer player;
                if (players.TryGetValue(id, out player))
                {
                    Destroy(player.gameObject);
                    players.Remove(id);
                }
                levels.Remove(id);
            };
            voice.AudioLevelChanged += (id, level) => levels[id] = level;
        }

        private void Update()
        {
            voice.PollLevels();
        }

        private async void Host()
        {
            try { await peerClient.StartHostAsync(groupName); status = "hosting " + groupName; }
            catch (Exception e) { status = e.Message; }
        }

        private async void Refresh()
        {
            try { hosts = await peerClient.ListHostsAsync(); }
            catch (Exception e) { status = e.Message; }
        }

        private async void Join(string hostId)
        {
            try { await peerClient.StartClientAsync(hostId); status = "joined"; }
            catch (Exception e) { status = e.Message; }
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
            if (GUILayout.Button(voice.Muted ? "Unmute" : "Mute")) voice.ToggleMute();
            foreach (var pair in players)
            {
                int level;
                levels.TryGetValue(pair.Key, out level);
                GUILayout.BeginHorizontal();
                // The speaking indicator: a bar as long as the member's level.
                GUILayout.Label((level > 30 ? "speaking " : "         ") + new string('|', level / 5), GUILayout.Width(200));
                GUILayout.Label(pair.Key, GUILayout.Width(120));
                pair.Value.volume = GUILayout.HorizontalSlider(pair.Value.volume, 0f, 2f, GUILayout.Width(100));
                GUILayout.EndHorizontal();
            }
            if (GUILayout.Button("Stop")) peerClient.Stop();
            GUILayout.Label(status);
            GUILayout.EndVertical();
        }

        private void OnDestroy()
        {
            peerClient.Dispose();
        }
    }
}
#endif
