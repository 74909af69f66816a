using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using WebRtcP2p;

namespace WebRtcP2p.Tests
{
    internal static class ChildProcess
    {
        /// <summary>Kills a test's child process if it still runs (it may have exited already).</summary>
        public static void Kill(Process process)
        {
            try
            {
                if (!process.HasExited)
                {
                    process.Kill();
                    process.WaitForExit(5000);
                }
            }
            catch (InvalidOperationException)
            {
            }
        }
    }

    /// <summary>A real p2p-signaling process on 127.0.0.1 with an OS-chosen port.</summary>
    public sealed class SignalingServer : IDisposable
    {
        private readonly Process process;
        public string Url { get; private set; }

        /// <summary>A server on <paramref name="bind"/>: a free port by default, or a restart on the port of one disposed.</summary>
        public SignalingServer(string bind = "127.0.0.1:0")
        {
            var bin = Environment.GetEnvironmentVariable("P2P_SIGNALING_BIN");
            var info = new ProcessStartInfo(bin, "--bind " + bind)
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            process = Process.Start(info);
            process.ErrorDataReceived += (s, e) => { };
            process.BeginErrorReadLine();
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (Url == null && DateTime.UtcNow < deadline)
            {
                var line = process.StandardOutput.ReadLine();
                if (line == null)
                {
                    break;
                }
                const string marker = "listening on ";
                var at = line.IndexOf(marker, StringComparison.Ordinal);
                if (at >= 0)
                {
                    Url = line.Substring(at + marker.Length).Trim();
                }
            }
            if (Url == null)
            {
                Dispose();
                throw new Exception("p2p-signaling did not start");
            }
        }

        public void Dispose()
        {
            ChildProcess.Kill(process);
        }
    }

    /// <summary>The Rust chat example (examples/chat.rs): a native peer on the Rust API.</summary>
    public sealed class RustChatPeer : IDisposable
    {
        private readonly Process process;
        public readonly BlockingCollection<string> Lines = new BlockingCollection<string>();

        public RustChatPeer(string url, string args)
        {
            var bin = Environment.GetEnvironmentVariable("P2P_CHAT_BIN");
            var info = new ProcessStartInfo(bin, "--url " + url + " --loopback " + args)
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardInput = true,
                RedirectStandardError = true,
            };
            process = Process.Start(info);
            process.OutputDataReceived += (s, e) => { if (e.Data != null) Lines.Add(e.Data); };
            process.ErrorDataReceived += (s, e) => { };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        /// <summary>Sends a line to every peer over the "chat" channel.</summary>
        public void Say(string line)
        {
            process.StandardInput.WriteLine(line);
            process.StandardInput.Flush();
        }

        /// <summary>The first output line starting with <paramref name="prefix"/> (skipping others).</summary>
        public string WaitForLine(string prefix, TimeSpan timeout)
        {
            var deadline = DateTime.UtcNow + timeout;
            string line;
            while (Lines.TryTake(out line, Remaining(deadline)))
            {
                if (line.StartsWith(prefix, StringComparison.Ordinal))
                {
                    return line;
                }
            }
            throw new TimeoutException("the Rust peer never printed '" + prefix + "'");
        }

        private static TimeSpan Remaining(DateTime deadline)
        {
            var left = deadline - DateTime.UtcNow;
            return left < TimeSpan.Zero ? TimeSpan.Zero : left;
        }

        public void Dispose()
        {
            ChildProcess.Kill(process);
        }
    }

    /// <summary>
    /// One test peer: a NativePeerClient without a SynchronizationContext (events queued for
    /// DispatchEvents on the test's thread), a "chat" channel per remote peer made in the pc-create
    /// hook as the seed's sample does, and a record of every event and message with the thread that
    /// raised it.
    /// </summary>
    public sealed class TestPeer : IDisposable
    {
        public readonly NativePeerClient Client;
        public readonly string Name;
        public readonly List<string> Events = new List<string>();
        public readonly List<int> EventThreads = new List<int>();
        public readonly List<string> Received = new List<string>();
        public readonly List<int> MessageThreads = new List<int>();
        public readonly Dictionary<string, RtcDataChannel> Open = new Dictionary<string, RtcDataChannel>();

        public TestPeer(string name, string url, Action<PeerConfig> configure = null, TimeSpan p2pTimeout = default(TimeSpan))
        {
            Name = name;
            Client = new NativePeerClient(TestConfig(url, configure, p2pTimeout), null);
            Client.AddPcCreateHook((id, isOffer, pc) =>
            {
                if (isOffer)
                {
                    Watch(id, pc.CreateDataChannel("chat"));
                }
                else
                {
                    pc.OnDataChannel += dc => Watch(id, dc);
                }
            });
            Record(Client.OnStarted, "started");
            Record(Client.OnStartFailed, "start-failed");
            Record(Client.OnConnectFailed, "connect-failed");
            Record(Client.OnDisconnected, "disconnected");
            Record(Client.OnUserConnecting, "user-connecting");
            Record(Client.OnUserConnected, "user-connected");
            Record(Client.OnUserDisconnecting, "user-disconnecting");
            Record(Client.OnReconnected, "reconnected");
        }

        public static PeerConfig TestConfig(string url, Action<PeerConfig> configure = null, TimeSpan p2pTimeout = default(TimeSpan))
        {
            var config = new PeerConfig(
                url,
                new SocketOptions { ConnectionTimeout = TimeSpan.FromSeconds(3) },
                null,
                p2pTimeout == default(TimeSpan) ? TimeSpan.FromSeconds(20) : p2pTimeout,
                TimeSpan.FromSeconds(2));
            config.BindAddresses = new List<string> { "127.0.0.1:0" };
            if (configure != null)
            {
                configure(config);
            }
            return config;
        }

        public int Count(string eventName)
        {
            return Events.Count(e => e == eventName || e.StartsWith(eventName + " ", StringComparison.Ordinal));
        }

        private void Watch(string peer, RtcDataChannel dc)
        {
            if (dc.Label != "chat")
            {
                return;
            }
            dc.OnOpen = () => Open[peer] = dc;
            dc.OnClose = () => Open.Remove(peer);
            dc.OnMessage = bytes =>
            {
                Received.Add(peer + " " + Encoding.UTF8.GetString(bytes));
                MessageThreads.Add(Thread.CurrentThread.ManagedThreadId);
            };
        }

        private void Record(IObservable<string> events, string name)
        {
            events.Subscribe(new Recorder(this, name));
        }

        public void Dispose()
        {
            Client.Dispose();
        }

        private sealed class Recorder : IObserver<string>
        {
            private readonly TestPeer peer;
            private readonly string name;

            public Recorder(TestPeer peer, string name)
            {
                this.peer = peer;
                this.name = name;
            }

            public void OnNext(string arg)
            {
                peer.Events.Add(name + " " + arg);
                peer.EventThreads.Add(Thread.CurrentThread.ManagedThreadId);
            }

            public void OnError(Exception error) { }
            public void OnCompleted() { }
        }
    }

    /// <summary>Waiting on the test's own thread while it pumps the peers' events.</summary>
    public static class Pump
    {
        public static void Until(Func<bool> done, TimeSpan timeout, string what, params TestPeer[] peers)
        {
            var deadline = DateTime.UtcNow + timeout;
            while (!done())
            {
                if (DateTime.UtcNow > deadline)
                {
                    throw new TimeoutException("timed out waiting for " + what);
                }
                if (Dispatch(peers) == 0)
                {
                    Thread.Sleep(5);
                }
            }
        }

        /// <summary>Pumps for a while (to let duplicates show up if there were any).</summary>
        public static void For(TimeSpan span, params TestPeer[] peers)
        {
            var end = DateTime.UtcNow + span;
            while (DateTime.UtcNow < end)
            {
                Dispatch(peers);
                Thread.Sleep(5);
            }
        }

        public static T Wait<T>(Task<T> task, TimeSpan timeout, params TestPeer[] peers)
        {
            Until(() => task.IsCompleted, timeout, "a task", peers);
            return task.GetAwaiter().GetResult();
        }

        public static void Wait(Task task, TimeSpan timeout, params TestPeer[] peers)
        {
            Until(() => task.IsCompleted, timeout, "a task", peers);
            task.GetAwaiter().GetResult();
        }

        private static int Dispatch(TestPeer[] peers)
        {
            var n = 0;
            foreach (var p in peers)
            {
                n += p.Client.DispatchEvents();
            }
            return n;
        }
    }

    public static class Assert
    {
        public static void True(bool condition, string message)
        {
            if (!condition)
            {
                throw new Exception("assertion failed: " + message);
            }
        }

        public static void Equal<T>(T expected, T actual, string what)
        {
            if (!EqualityComparer<T>.Default.Equals(expected, actual))
            {
                throw new Exception("assertion failed: " + what + ": expected <" + expected + ">, got <" + actual + ">");
            }
        }

        public static TException Throws<TException>(Action action, string what) where TException : Exception
        {
            try
            {
                action();
            }
            catch (TException e)
            {
                return e;
            }
            catch (AggregateException e) when (e.InnerException is TException)
            {
                return (TException)e.InnerException;
            }
            catch (Exception e)
            {
                throw new Exception("assertion failed: " + what + ": expected " + typeof(TException).Name + ", got " + e.GetType().Name + ": " + e.Message);
            }
            throw new Exception("assertion failed: " + what + ": expected " + typeof(TException).Name + ", nothing was thrown");
        }
    }
}
