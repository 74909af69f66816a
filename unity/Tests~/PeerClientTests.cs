using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using WebRtcP2p;
using WebRtcP2p.Native;
using WebRtcP2p.Samples;

namespace WebRtcP2p.Tests
{
    /// <summary>
    /// The C# wrapper against the real library (target/debug/libwebrtc_p2p.so), a real p2p-signaling
    /// process and real WebRTC on loopback. Run by unity/Tests~/run.sh under Mono.
    /// </summary>
    public static class PeerClientTests
    {
        private static readonly TimeSpan Long = TimeSpan.FromSeconds(30);
        private static int mainThread;

        public static int Main(string[] args)
        {
            mainThread = Thread.CurrentThread.ManagedThreadId;
            var errors = new List<Exception>();
            PeerClientLog.OnException = e => { lock (errors) errors.Add(e); };
            var tests = new List<KeyValuePair<string, Action>>
            {
                Test("a host and two clients form a mesh and chat both ways, events once on the pumping thread", MeshOfThree),
                Test("GetStatsAsync gives a typed PeerStats per link; a pc's GetStats; a closed pc throws", Stats),
                Test("a duplicate host name throws HostNameAlreadyExistsException", DuplicateHostName),
                Test("ListHostsAsync returns the host, and not after it stops", ListHosts),
                Test("stop and dispose mid-session do not crash and free every handle", StopAndDisposeMidSession),
                Test("a C# peer and a Rust-API peer share a group", CSharpAndRustPeers),
                Test("events are raised on the captured SynchronizationContext", SynchronizationContextDelivery),
                Test("losing the signaling server raises OnDisconnected once; the links keep working", ServerLoss),
                Test("a restarted signaling server: OnReconnected, the host's group is listed again, the links keep working", ServerRestart),
                Test("bad input gets exceptions, never a crash", BadInput),
                Test("the ported NativeDataChannelClient sample carries messages", Sample),
                Test("voice: the ported voice chat sample carries each member's tone to the other; volume, mute, stats", VoiceTests.TwoMembersHearEachOther),
                Test("voice: bad formats and pushes get exceptions", VoiceTests.BadInput),
                Test("after ShutdownLibrary (a domain reload) old clients fail cleanly and new ones work", Reload),
            };
            var filter = args.Length > 0 ? args[0] : null;
            int passed = 0, failed = 0;
            foreach (var t in tests)
            {
                if (filter != null && t.Key.IndexOf(filter, StringComparison.OrdinalIgnoreCase) < 0)
                {
                    continue;
                }
                var started = DateTime.UtcNow;
                var handlesBefore = NativeMethods.p2p_handle_count();
                try
                {
                    lock (errors) errors.Clear();
                    t.Value();
                    lock (errors)
                    {
                        if (errors.Count > 0)
                        {
                            throw new Exception("a handler or hook threw", errors[0]);
                        }
                    }
                    Assert.Equal(handlesBefore, NativeMethods.p2p_handle_count(), "native handles left after the test");
                    passed++;
                    Console.WriteLine("ok   {0} ({1:F1} s)", t.Key, (DateTime.UtcNow - started).TotalSeconds);
                }
                catch (Exception e)
                {
                    failed++;
                    Console.WriteLine("FAIL {0}\n     {1}", t.Key, e.ToString().Replace("\n", "\n     "));
                }
            }
            Console.WriteLine("{0} passed, {1} failed", passed, failed);
            // Tear the library down as the editor does before a domain reload; the process must then
            // exit on its own (run.sh's timeout fails the suite if it hangs).
            NativePeerClient.ShutdownLibrary();
            return failed == 0 && passed > 0 ? 0 : 1;
        }

        private static KeyValuePair<string, Action> Test(string name, Action body)
        {
            return new KeyValuePair<string, Action>(name, body);
        }

        private static string UniqueName(string prefix)
        {
            return prefix + "-" + Guid.NewGuid().ToString("N").Substring(0, 8);
        }

        /// <summary>Host starts, then each client joins; returns once every pair's channel is open.</summary>
        private static void FormMesh(TestPeer host, params TestPeer[] clients)
        {
            var all = new[] { host }.Concat(clients).ToArray();
            Pump.Wait(host.Client.StartHostAsync(UniqueName("group")), Long, all);
            foreach (var c in clients)
            {
                Pump.Wait(c.Client.StartClientAsync(host.Client.ClientId), Long, all);
            }
            Pump.Until(() => all.All(p => p.Open.Count == all.Length - 1), Long, "every channel to open", all);
        }

        private static void MeshOfThree()
        {
            using (var server = new SignalingServer())
            using (var host = new TestPeer("host", server.Url))
            using (var a = new TestPeer("a", server.Url))
            using (var b = new TestPeer("b", server.Url))
            {
                var all = new[] { host, a, b };
                FormMesh(host, a, b);
                Assert.Equal(PeerRole.Host, host.Client.Role, "host role");
                Assert.Equal(PeerRole.Client, a.Client.Role, "client role");
                Assert.Equal(host.Client.ClientId, a.Client.HostId, "the client's host id");
                Assert.True(host.Client.IsRunning && a.Client.IsRunning && b.Client.IsRunning, "all running");

                foreach (var from in all)
                {
                    foreach (var pair in from.Open)
                    {
                        pair.Value.Send("text from " + from.Client.ClientId);
                        pair.Value.Send(new byte[] { 1, 2, 3 });
                    }
                }
                Pump.Until(() => all.All(p => p.Received.Count == 4), Long, "every message", all);
                foreach (var to in all)
                {
                    foreach (var from in all.Where(p => p != to))
                    {
                        var id = from.Client.ClientId;
                        Assert.True(to.Received.Contains(id + " text from " + id), to.Name + " got the text from " + from.Name);
                        Assert.True(to.Received.Contains(id + " \u0001\u0002\u0003"), to.Name + " got the bytes from " + from.Name);
                    }
                }

                Pump.For(TimeSpan.FromMilliseconds(300), all);
                foreach (var p in all)
                {
                    Assert.Equal(1, p.Count("started"), p.Name + " started once");
                    Assert.True(p.Events.Contains("started " + p.Client.ClientId), p.Name + " started with its own id");
                    foreach (var other in all.Where(o => o != p))
                    {
                        Assert.Equal(1, p.Events.Count(e => e == "user-connecting " + other.Client.ClientId), p.Name + " user-connecting " + other.Name + " once");
                        Assert.Equal(1, p.Events.Count(e => e == "user-connected " + other.Client.ClientId), p.Name + " user-connected " + other.Name + " once");
                    }
                    Assert.Equal(5, p.Events.Count, p.Name + " has no other events: " + string.Join(", ", p.Events));
                    Assert.True(p.EventThreads.All(t => t == mainThread), p.Name + " events on the pumping thread");
                    Assert.True(p.MessageThreads.All(t => t == mainThread), p.Name + " messages on the pumping thread");
                }

                var leaving = b.Client.ClientId;
                b.Client.Stop();
                Assert.True(!b.Client.IsRunning, "b stopped");
                Pump.Until(() => host.Count("user-disconnecting") == 1 && a.Count("user-disconnecting") == 1, Long, "the others to see b leave", all);
                Assert.True(host.Events.Contains("user-disconnecting " + leaving), "host saw b leave");
                a.Open[host.Client.ClientId].Send("still here");
                Pump.Until(() => host.Received.Contains(a.Client.ClientId + " still here"), Long, "a message after b left", all);
            }
        }

        private static void Stats()
        {
            using (var server = new SignalingServer())
            using (var host = new TestPeer("host", server.Url))
            using (var a = new TestPeer("a", server.Url))
            {
                var all = new[] { host, a };
                var pcs = new Dictionary<string, RtcPeerConnection>();
                host.Client.AddPcCreateHook((id, isOffer, pc) => { lock (pcs) pcs[id] = pc; });
                Assert.Equal(0, Pump.Wait(host.Client.GetStatsAsync(), Long, all).Count, "no links before a group");
                FormMesh(host, a);
                var aId = a.Client.ClientId;
                host.Open[aId].Send("counted");
                Pump.Until(() => a.Received.Count == 1, Long, "the message", all);

                // The link's state may trail its channel's open by a moment.
                Pump.Until(() => host.Client.GetStats()[0].ConnectionState == "connected", Long, "the link to report connected", all);
                var stats = Pump.Wait(host.Client.GetStatsAsync(), Long, all);
                Assert.Equal(1, stats.Count, "one link");
                var s = stats[0];
                Assert.Equal(aId, s.PeerId, "the link's peer");
                Assert.Equal("connected", s.ConnectionState, "connection state");
                Assert.True(s.IceState == "connected" || s.IceState == "completed", "ICE state " + s.IceState);
                Assert.Equal("host", s.LocalCandidate.Type, "local candidate type on loopback");
                Assert.Equal("udp", s.LocalCandidate.Protocol, "protocol");
                Assert.Equal("127.0.0.1", s.LocalCandidate.Address, "local address");
                Assert.Equal("host", s.RemoteCandidate.Type, "remote candidate type");
                Assert.True(s.BytesSent > 0 && s.BytesReceived > 0, "traffic on the pair");
                var chat = s.DataChannels.Single(d => d.Label == "chat");
                Assert.Equal("open", chat.State, "chat channel state");
                Assert.True(chat.MessagesSent >= 1 && chat.BytesSent >= "counted".Length, "the message is counted");
                Assert.Equal(0, s.Audio.Count, "no audio yet");
                Pump.Until(() => host.Client.GetStats()[0].RttMs.HasValue, Long, "an RTT measurement", all);
                Assert.True(host.Client.GetStats()[0].RttMs.Value >= 0, "RTT in ms");

                var received = a.Client.GetStats().Single().DataChannels.Single(d => d.Label == "chat");
                Assert.True(received.MessagesReceived >= 1, "the other side counts it received");

                RtcPeerConnection toA;
                lock (pcs) toA = pcs[aId];
                var one = Pump.Wait(toA.GetStatsAsync(), Long, all);
                Assert.Equal(aId, one.PeerId, "a pc's own stats");
                Assert.Equal("connected", one.ConnectionState, "a pc's state");

                a.Client.Stop();
                Pump.Until(() => host.Count("user-disconnecting") == 1, Long, "a to leave", all);
                Pump.Until(() => host.Client.GetStats().Count == 0, Long, "the link to drop out of the stats", all);
                Assert.Throws<PeerClientException>(() => toA.GetStats(), "stats of a closed pc");
            }
        }

        private static void DuplicateHostName()
        {
            using (var server = new SignalingServer())
            using (var first = new TestPeer("first", server.Url))
            using (var second = new TestPeer("second", server.Url))
            {
                var name = UniqueName("dup");
                Pump.Wait(first.Client.StartHostAsync(name), Long, first);
                var e = Assert.Throws<HostNameAlreadyExistsException>(
                    () => Pump.Wait(second.Client.StartHostAsync(name), Long, second), "second host of the same name");
                Assert.Equal(ErrorCodes.HostExists, e.Code, "error code");
                Assert.True(e.Message.Length > 0, "a readable message");
                Assert.True(!second.Client.IsRunning, "the refused client is not running");
            }
        }

        private static void ListHosts()
        {
            using (var server = new SignalingServer())
            using (var host = new TestPeer("host", server.Url))
            using (var lister = new TestPeer("lister", server.Url))
            {
                var name = UniqueName("listed");
                Assert.Equal(0, Pump.Wait(lister.Client.ListHostsAsync(), Long, lister).Count, "no hosts at first");
                Pump.Wait(host.Client.StartHostAsync(name), Long, host);
                var hosts = Pump.Wait(lister.Client.ListHostsAsync(), Long, lister);
                Assert.Equal(1, hosts.Count, "one host");
                Assert.Equal(name, hosts[0].Name, "its name");
                Assert.Equal(host.Client.ClientId, hosts[0].Id, "its id");
                host.Client.Stop();
                Pump.Until(() => Pump.Wait(lister.Client.ListHostsAsync(), Long, lister).Count == 0, Long, "the host to leave the list", lister);
            }
        }

        private static void StopAndDisposeMidSession()
        {
            using (var server = new SignalingServer())
            {
                var host = new TestPeer("host", server.Url);
                var client = new TestPeer("client", server.Url);
                var all = new[] { host, client };
                FormMesh(host, client);

                // Traffic from another thread while the client stops and both dispose.
                var toClient = host.Open[client.Client.ClientId];
                var sending = true;
                var sendErrors = 0;
                var sender = new Thread(() =>
                {
                    var payload = new byte[16 * 1024];
                    while (Volatile.Read(ref sending))
                    {
                        try
                        {
                            toClient.Send(payload);
                        }
                        catch (PeerClientException)
                        {
                            sendErrors++;
                            Thread.Sleep(1);
                        }
                    }
                }) { IsBackground = true };
                sender.Start();
                Pump.For(TimeSpan.FromMilliseconds(200), all);
                client.Client.Stop();
                Pump.Until(() => host.Count("user-disconnecting") == 1, Long, "the host to see the client leave", host);
                client.Dispose();
                client.Dispose();

                // A request pending at Dispose fails instead of hanging.
                var other = new TestPeer("other", server.Url);
                var pending = other.Client.StartClientAsync("no-such-host");
                other.Dispose();
                try
                {
                    pending.Wait(TimeSpan.FromSeconds(10));
                }
                catch (AggregateException)
                {
                }
                Assert.True(pending.IsFaulted, "the pending start failed");
                Assert.True(pending.Exception.InnerException is ObjectDisposedException, "with ObjectDisposedException: " + pending.Exception.InnerException);
                Assert.Throws<ObjectDisposedException>(() => other.Client.StartHostAsync("x"), "use after Dispose");

                host.Dispose();
                Volatile.Write(ref sending, false);
                sender.Join();
                Assert.True(sendErrors > 0, "sends after the client left failed with PeerClientException");
                Assert.Equal(0, NativeMethods.p2p_handle_count(), "no native handle left");
            }
        }

        private static void CSharpAndRustPeers()
        {
            using (var server = new SignalingServer())
            using (var rust = new RustChatPeer(server.Url, "--host rust-room"))
            using (var cs = new TestPeer("cs", server.Url))
            {
                var rustId = rust.WaitForLine("ready ", Long).Substring("ready ".Length);
                var hosts = Pump.Wait(cs.Client.ListHostsAsync(), Long, cs);
                Assert.True(hosts.Any(h => h.Name == "rust-room" && h.Id == rustId), "the Rust host is listed");
                Pump.Wait(cs.Client.StartClientAsync(rustId), Long, cs);
                Pump.Until(() => cs.Open.ContainsKey(rustId), Long, "the Rust host's channel to open", cs);

                cs.Open[rustId].Send("hello from csharp");
                rust.WaitForLine("recv " + cs.Client.ClientId + " hello from csharp", Long);
                rust.Say("hello from rust");
                Pump.Until(() => cs.Received.Contains(rustId + " hello from rust"), Long, "the Rust peer's message", cs);
            }
        }

        private static void SynchronizationContextDelivery()
        {
            using (var server = new SignalingServer())
            using (var context = new SingleThreadContext())
            {
                var startedOn = new TaskCompletionSource<int>();
                NativePeerClient client = null;
                context.Send(() =>
                {
                    client = new NativePeerClient(TestPeer.TestConfig(server.Url));
                    client.OnStarted.Subscribe(new Observer(_ => startedOn.TrySetResult(Thread.CurrentThread.ManagedThreadId)));
                });
                try
                {
                    client.StartHostAsync(UniqueName("ctx")).Wait(Long);
                    Assert.True(startedOn.Task.Wait(Long), "OnStarted raised without any pump");
                    Assert.Equal(context.ThreadId, startedOn.Task.Result, "on the context's thread");
                    Assert.Equal(0, client.DispatchEvents(), "nothing left for a pump");
                }
                finally
                {
                    client.Dispose();
                }
            }
        }

        private static void ServerLoss()
        {
            TestPeer host, client;
            string clientId;
            using (var server = new SignalingServer())
            {
                host = new TestPeer("host", server.Url);
                client = new TestPeer("client", server.Url);
                FormMesh(host, client);
                // ClientId is null while disconnected; the link keeps the id it was made with.
                clientId = client.Client.ClientId;
            }
            using (host)
            using (client)
            {
                var all = new[] { host, client };
                Pump.Until(() => host.Count("disconnected") == 1 && client.Count("disconnected") == 1, Long, "OnDisconnected", all);
                host.Open[clientId].Send("after the server died");
                Pump.Until(() => client.Received.Count == 1, Long, "a message over the surviving link", all);
                Pump.For(TimeSpan.FromMilliseconds(300), all);
                Assert.Equal(1, host.Count("disconnected"), "host disconnected once");
                Assert.Equal(1, client.Count("disconnected"), "client disconnected once");
            }
        }

        private static void ServerRestart()
        {
            TestPeer host, client;
            string bind;
            using (var server = new SignalingServer())
            {
                bind = server.Url.Substring(server.Url.IndexOf("://", StringComparison.Ordinal) + 3);
                host = new TestPeer("host", server.Url);
                client = new TestPeer("client", server.Url);
                FormMesh(host, client);
            }
            using (host)
            using (client)
            {
                var all = new[] { host, client };
                var oldHostId = host.Client.ClientId;
                Pump.Until(() => host.Count("disconnected") == 1 && client.Count("disconnected") == 1, Long, "OnDisconnected", all);
                using (new SignalingServer(bind))
                {
                    Pump.Until(() => host.Count("reconnected") == 1 && client.Count("reconnected") == 1, Long, "OnReconnected", all);
                    Assert.True(host.Client.ClientId != oldHostId, "a new own id after reconnecting");
                    Assert.Equal(host.Client.ClientId, host.Client.HostId, "the host's HostId follows its new id");
                    var hosts = Pump.Wait(client.Client.ListHostsAsync(), Long, client);
                    Assert.Equal(1, hosts.Count, "the host re-created its group");
                    Assert.Equal(host.Client.ClientId, hosts[0].Id, "under its new id");
                    // The host knows the client by the id it had when the link was made.
                    host.Open[host.Open.Keys.Single()].Send("after the restart");
                    Pump.Until(() => client.Received.Count == 1, Long, "a message over the link made before the restart", all);
                    Assert.Equal(0, host.Count("user-disconnecting") + client.Count("user-disconnecting"), "no link closed");
                    Assert.Equal(1, host.Count("disconnected"), "host disconnected once");
                }
            }
        }

        private static void BadInput()
        {
            Assert.Throws<ArgumentException>(() => new PeerConfig(""), "empty signaling URL");
            Assert.Throws<ArgumentNullException>(() => new NativePeerClient(null, null), "null config");
            var badUrl = Assert.Throws<PeerClientException>(() => new NativePeerClient(TestPeer.TestConfig("not a url"), null), "bad URL");
            Assert.Equal(ErrorCodes.InvalidConfig, badUrl.Code, "bad URL code");
            // Auth reaches the config JSON as an object the native library accepts.
            var withAuth = TestPeer.TestConfig("http://127.0.0.1:9");
            withAuth.Auth = new Dictionary<string, string> { { "token", "a.b\"c" } };
            Assert.True(withAuth.ToJson().Contains("\"auth\":{\"token\":\"a.b\\\"c\"}"), "auth in the config JSON: " + withAuth.ToJson());
            new NativePeerClient(withAuth, null).Dispose();
            // Relay-only ICE reaches the config JSON as the native library's iceTransportPolicy.
            var relayOnly = TestPeer.TestConfig("http://127.0.0.1:9");
            Assert.True(relayOnly.ToJson().Contains("\"iceTransportPolicy\":\"all\""), "all candidates by default: " + relayOnly.ToJson());
            relayOnly.RelayOnly = true;
            Assert.True(relayOnly.ToJson().Contains("\"iceTransportPolicy\":\"relay\""), "relay only: " + relayOnly.ToJson());
            new NativePeerClient(relayOnly, null).Dispose();
            // A CA for https signaling reaches the native side, which refuses text without a certificate.
            var badCa = TestPeer.TestConfig("https://127.0.0.1:9");
            badCa.SocketOptions.CaCertificatesPem = "-----BEGIN NOTHING-----\n";
            Assert.True(badCa.ToJson().Contains("\"caCertificatesPem\":\"-----BEGIN NOTHING-----\\n\""), "CA in the config JSON: " + badCa.ToJson());
            var badCaError = Assert.Throws<PeerClientException>(() => new NativePeerClient(badCa, null), "a CA without a certificate");
            Assert.Equal(ErrorCodes.InvalidConfig, badCaError.Code, "bad CA code");

            using (var server = new SignalingServer())
            using (var peer = new TestPeer("peer", server.Url))
            {
                Assert.Throws<ArgumentNullException>(() => peer.Client.StartHostAsync(null), "null name");
                Assert.Throws<ArgumentException>(() => peer.Client.StartHostAsync("a\0b"), "NUL in the name");
                var tooLong = Assert.Throws<PeerClientException>(() => Pump.Wait(peer.Client.StartHostAsync(new string('x', 100)), Long, peer), "a 100-char name");
                Assert.Equal(ErrorCodes.InvalidArgument, tooLong.Code, "long name code");
                Assert.Throws<PeerClientException>(() => Pump.Wait(peer.Client.StartHostAsync("   "), Long, peer), "a blank name");
                Assert.Throws<ArgumentException>(() => new RtcDataChannelInit { maxRetransmits = 1, maxPacketLifeTime = 1 }.ToNative(), "both partial-reliability limits");
                Assert.Throws<ArgumentException>(() => new RtcDataChannelInit { negotiated = true }.ToNative(), "negotiated without an id");
            }

            using (var server = new SignalingServer())
            using (var impatient = new TestPeer("impatient", server.Url, null, TimeSpan.FromSeconds(2)))
            {
                // Joining nobody: the start fails after the (shortened) P2P timeout, raising OnStartFailed once.
                var e = Assert.Throws<PeerClientException>(() => Pump.Wait(impatient.Client.StartClientAsync("no-such-host"), Long, impatient), "joining nobody");
                Assert.Equal(ErrorCodes.StartFailed, e.Code, "start failed code");
                Pump.For(TimeSpan.FromMilliseconds(200), impatient);
                Assert.Equal(1, impatient.Count("start-failed"), "OnStartFailed once");
                Assert.True(!impatient.Client.IsRunning, "not running after the failed start");
            }

            using (var unreachable = new TestPeer("unreachable", "http://127.0.0.1:9"))
            {
                var e = Assert.Throws<PeerClientException>(() => Pump.Wait(unreachable.Client.ListHostsAsync(), Long, unreachable), "unreachable server");
                Assert.True(e.Message.Length > 0, "a readable message");
                Pump.Until(() => unreachable.Count("connect-failed") >= 1, Long, "OnConnectFailed", unreachable);
                Pump.For(TimeSpan.FromMilliseconds(200), unreachable);
                Assert.Equal(1, unreachable.Count("connect-failed"), "OnConnectFailed once");
            }
        }

        private static void Sample()
        {
            using (var server = new SignalingServer())
            using (var host = new TestPeer("host", server.Url))
            using (var client = new TestPeer("client", server.Url))
            {
                var hostChat = new NativeDataChannelClient(host.Client);
                var clientChat = new NativeDataChannelClient(client.Client);
                var got = new List<string>();
                hostChat.Received += (id, text) => got.Add("host<-" + text);
                clientChat.Received += (id, text) => got.Add("client<-" + text);
                FormMesh(host, client);
                var all = new[] { host, client };
                Pump.Until(() => hostChat.OpenCount == 1 && clientChat.OpenCount == 1, Long, "the sample channels to open", all);
                hostChat.SendToAll("hi client");
                clientChat.SendToAll("hi host");
                Pump.Until(() => got.Count == 2, Long, "the sample's messages", all);
                Assert.True(got.Contains("host<-hi host") && got.Contains("client<-hi client"), "both ways: " + string.Join(",", got));
                clientChat.Clear();
                Assert.Equal(0, clientChat.OpenCount, "Clear closes the channels");
            }
        }

        private static void Reload()
        {
            using (var server = new SignalingServer())
            {
                var old = new TestPeer("old", server.Url);
                Pump.Wait(old.Client.StartHostAsync(UniqueName("before")), Long, old);
                NativePeerClient.ShutdownLibrary();
                Assert.Equal(0, NativeMethods.p2p_handle_count(), "no handle survives the shutdown");
                var e = Assert.Throws<PeerClientException>(() => old.Client.Stop(), "a client from before the shutdown");
                Assert.Equal(ErrorCodes.InvalidHandle, e.Code, "its handle is gone");
                old.Dispose();
                using (var fresh = new TestPeer("fresh", server.Url))
                using (var joiner = new TestPeer("joiner", server.Url))
                {
                    FormMesh(fresh, joiner);
                }
            }
        }

        private sealed class Observer : IObserver<string>
        {
            private readonly Action<string> action;
            public Observer(Action<string> action) { this.action = action; }
            public void OnNext(string value) { action(value); }
            public void OnError(Exception error) { }
            public void OnCompleted() { }
        }
    }

    /// <summary>A SynchronizationContext with one thread of its own, like Unity's main thread.</summary>
    public sealed class SingleThreadContext : SynchronizationContext, IDisposable
    {
        private readonly System.Collections.Concurrent.BlockingCollection<Action> work = new System.Collections.Concurrent.BlockingCollection<Action>();
        private readonly Thread thread;
        public int ThreadId { get { return thread.ManagedThreadId; } }

        public SingleThreadContext()
        {
            thread = new Thread(() =>
            {
                SetSynchronizationContext(this);
                foreach (var action in work.GetConsumingEnumerable())
                {
                    action();
                }
            });
            thread.Start();
        }

        public override void Post(SendOrPostCallback d, object state)
        {
            work.Add(() => d(state));
        }

        public void Send(Action action)
        {
            var done = new ManualResetEventSlim();
            work.Add(() => { try { action(); } finally { done.Set(); } });
            done.Wait();
        }

        public void Dispose()
        {
            work.CompleteAdding();
            thread.Join();
        }
    }
}
