using System;
using System.Linq;
using System.Threading;
using WebRtcP2p;
using WebRtcP2p.Samples;

namespace WebRtcP2p.Tests
{
    /// <summary>Voice through the C# API and the real library: the ported voice chat sample on two
    /// members, each pushing a sine in real time; what each pulls is analysed for the other's tone.</summary>
    public static class VoiceTests
    {
        private static readonly TimeSpan Long = TimeSpan.FromSeconds(20);

        public static void TwoMembersHearEachOther()
        {
            using (var server = new SignalingServer())
            using (var host = new TestPeer("host", server.Url))
            using (var client = new TestPeer("client", server.Url))
            using (var hostMic = new PeerAudioSource(48000, 1))
            using (var clientMic = new PeerAudioSource(44100, 2))
            {
                var hostVoice = new VoiceChatClient(host.Client, hostMic);
                var clientVoice = new VoiceChatClient(client.Client, clientMic);
                var all = new[] { host, client };
                Pump.Wait(host.Client.StartHostAsync("voice-" + Guid.NewGuid().ToString("N").Substring(0, 8)), Long, all);
                Pump.Wait(client.Client.StartClientAsync(host.Client.ClientId), Long, all);
                var stop = new CancellationTokenSource();
                var speakers = new[] { Speak(hostMic, 440, stop.Token), Speak(clientMic, 660, stop.Token) };
                try
                {
                    // A remote track is announced with its first packet, i.e. once the member talks.
                    Pump.Until(() => hostVoice.Peers.Count == 1 && clientVoice.Peers.Count == 1, Long, "a track each way", all);
                    var fromHost = clientVoice.TrackOf(host.Client.ClientId);
                    var fromClient = hostVoice.TrackOf(client.Client.ClientId);
                    Listen(fromHost, 1000, 1, all); // settle: first packets, the playout depth adapting
                    var heardByClient = Listen(fromHost, 1000, 1, all);
                    var heardByHost = Listen(fromClient, 1000, 2, all);
                    AssertTone(heardByClient, 440, "the client hears the host");
                    AssertTone(heardByHost, 660, "the host hears the client (stereo source at 44.1 kHz)");
                    Assert.True(fromHost.Level > 50, "speaking level " + fromHost.Level);
                    var stats = fromHost.GetStats();
                    Assert.True(stats.PacketsReceived > 50 && stats.BufferedMs < 200, "track stats: " + stats.PacketsReceived + " packets, " + stats.BufferedMs + " ms buffered");
                    Assert.Equal(1, host.Client.GetStatsAsync().Result[0].Audio.Count, "audio in the pc stats");

                    // Per-peer volume 0 silences that member locally; mute silences us for everyone.
                    clientVoice.SetVolume(host.Client.ClientId, 0f);
                    Assert.True(Listen(fromHost, 200, 1, all).All(s => s == 0f), "volume 0 is silence");
                    clientVoice.SetVolume(host.Client.ClientId, 1f);
                    Assert.True(hostVoice.ToggleMute(), "muted");
                    Pump.Until(() => fromHost.Level == 0, Long, "the host's level to fall to 0 after mute", all);
                    var levels = new System.Collections.Generic.List<int>();
                    clientVoice.AudioLevelChanged += (id, level) => levels.Add(level);
                    clientVoice.PollLevels();
                    Assert.True(levels.Contains(0), "AudioLevelChanged reports the silence");
                }
                finally
                {
                    // Before the sources are disposed, whatever happened above.
                    stop.Cancel();
                    foreach (var s in speakers) s.Join();
                }
                client.Client.Stop();
                Pump.Until(() => hostVoice.Peers.Count == 0, Long, "the track to go with its connection", all);
            }
        }

        public static void BadInput()
        {
            var e = Assert.Throws<PeerClientException>(() => new PeerAudioSource(7999, 1), "rate below 8 kHz");
            Assert.Equal(ErrorCodes.InvalidArgument, e.Code, "rate code");
            Assert.Throws<PeerClientException>(() => new PeerAudioSource(48000, 3), "three channels");
            Assert.Throws<PeerClientException>(() => new PeerAudioSource(48000, 1, 1), "a 1 b/s bitrate");
            using (var source = new PeerAudioSource(48000, 2))
            {
                Assert.Throws<ArgumentNullException>(() => source.Push(null), "null samples");
                Assert.Throws<ArgumentOutOfRangeException>(() => source.Push(new float[4], 2, 4), "range beyond the array");
                var half = Assert.Throws<PeerClientException>(() => source.Push(new float[3]), "half a stereo frame");
                Assert.Equal(ErrorCodes.InvalidArgument, half.Code, "half frame code");
                Assert.Throws<PeerClientException>(() => source.Push(new float[200000]), "more than a second in one push");
                source.Push(new float[960]);
                source.Dispose();
                Assert.Throws<ObjectDisposedException>(() => source.Push(new float[2]), "a disposed source");
            }
        }

        /// <summary>Pushes a sine in 10 ms chunks paced in real time until cancelled.</summary>
        private static Thread Speak(PeerAudioSource source, double freq, CancellationToken stop)
        {
            var t = new Thread(() =>
            {
                var frames = source.SampleRate / 100;
                var chunk = new float[frames * source.Channels];
                var started = DateTime.UtcNow;
                long n = 0;
                while (!stop.IsCancellationRequested)
                {
                    for (var i = 0; i < frames; i++)
                    {
                        var s = (float)(0.5 * Math.Sin(2 * Math.PI * freq * (n + i) / source.SampleRate));
                        for (var c = 0; c < source.Channels; c++) chunk[i * source.Channels + c] = s;
                    }
                    source.Push(chunk);
                    n += frames;
                    var due = started + TimeSpan.FromSeconds((double)n / source.SampleRate);
                    var wait = due - DateTime.UtcNow;
                    if (wait > TimeSpan.Zero) Thread.Sleep(wait);
                }
            });
            t.IsBackground = true;
            t.Start();
            return t;
        }

        /// <summary>Reads <paramref name="ms"/> of 48 kHz audio in 10 ms reads paced in real time (as
        /// OnAudioFilterRead does), pumping events meanwhile; returns the first channel.</summary>
        private static float[] Listen(RtcAudioTrack track, int ms, int channels, params TestPeer[] peers)
        {
            var buffer = new float[480 * channels];
            var mono = new float[48 * ms];
            var started = DateTime.UtcNow;
            for (var i = 0; i < ms / 10; i++)
            {
                track.Read(buffer, 48000, channels);
                for (var f = 0; f < 480; f++) mono[i * 480 + f] = buffer[f * channels];
                var wait = started + TimeSpan.FromMilliseconds(10 * (i + 1)) - DateTime.UtcNow;
                Pump.For(wait > TimeSpan.Zero ? wait : TimeSpan.Zero, peers);
            }
            return mono;
        }

        private static void AssertTone(float[] pcm, double freq, string what)
        {
            double best = 0, bestPower = -1;
            for (var f = 100.0; f < 2000; f += 10) Scan(pcm, f, ref best, ref bestPower);
            var coarse = best;
            for (var f = coarse - 10; f <= coarse + 10; f += 1) Scan(pcm, f, ref best, ref bestPower);
            Assert.True(Math.Abs(best - freq) <= 5, what + ": dominant " + best + " Hz, expected " + freq);
            var rms = Math.Sqrt(pcm.Select(s => (double)s * s).Average());
            Assert.True(rms > 0.1 && rms < 0.6, what + ": rms " + rms);
        }

        /// <summary>Goertzel power at <paramref name="f"/>; keeps the strongest.</summary>
        private static void Scan(float[] pcm, double f, ref double best, ref double bestPower)
        {
            var w = 2 * Math.PI * f / 48000;
            var k = 2 * Math.Cos(w);
            double s1 = 0, s2 = 0;
            foreach (var x in pcm)
            {
                var s0 = x + k * s1 - s2;
                s2 = s1;
                s1 = s0;
            }
            var power = s1 * s1 + s2 * s2 - k * s1 * s2;
            if (power > bestPower)
            {
                bestPower = power;
                best = f;
            }
        }
    }
}
