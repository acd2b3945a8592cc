using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using NetMQ;
using Vmci;
using Vmci.TestKit;
using Vmci.TestKit.Agent;
using Vmci.Transport;

namespace Conformance.TwoMachine;

/// <summary>
/// This process's machine in a two-machine case. Its NetMQ sockets live on one thread of their own (NetMQ sockets are
/// not thread-safe and an async case moves between threads); everything it opens is closed on dispose.
/// </summary>
internal sealed class LocalMachine : IMachine, IDisposable
{
    private readonly IVsockNetwork _network;
    private readonly CancellationToken _ct;
    private readonly BlockingCollection<Action> _work = [];
    private readonly List<IDisposable> _owned = [];
    private readonly Thread _thread;

    public LocalMachine(IVsockNetwork network, CancellationToken ct)
    {
        _network = network;
        _ct = ct;
        _thread = new Thread(() =>
        {
            foreach (var action in _work.GetConsumingEnumerable())
                action();
        })
        { IsBackground = true, Name = "two-machine local NetMQ" };
        _thread.Start();
    }

    public uint Cid => _network.GetLocalCid();

    public string Backend => _network.Name;

    public Task<IListenerEnd> ListenAsync(VsockOptions? options = null, string address = "vmci://*:*")
    {
        var listener = Own(_network.Listen(VmciEndpoint.Parse(address).Resolve(_network.GetLocalCid), options));
        return Task.FromResult<IListenerEnd>(new Listener(this, listener));
    }

    public async Task<IStreamEnd> ConnectAsync(VsockAddress target, VsockOptions? options = null) =>
        new Stream(Own(await _network.ConnectAsync(target, options, _ct)), _ct);

    public Task<ISocketEnd> SocketAsync(string type, RemoteSocketOptions? options = null) => Run(() =>
    {
        var socket = Own(SocketTypes.Create(type));
        socket.Options.Linger = TimeSpan.Zero;
        socket.VmciOptions().Network = _network;
        if (options?.ReconnectInterval is { } interval)
            socket.Options.ReconnectInterval = interval;
        if (options?.Vsock is { } vsock)
        {
            if (vsock.BufferMaxSize is { } max)
                socket.VmciOptions().BufferMaxSize = max;
            if (vsock.BufferMinSize is { } min)
                socket.VmciOptions().BufferMinSize = min;
            if (vsock.BufferSize is { } size)
                socket.VmciOptions().BufferSize = size;
        }
        if (options?.CurveSecretKey is { } secret)
        {
            socket.Options.CurveCertificate = NetMQCertificate.CreateFromSecretKey(secret);
            socket.Options.CurveServer = options.CurveServer;
        }
        if (options?.CurveServerKey is { } serverKey)
            socket.Options.CurveServerKey = NetMQCertificate.FromPublicKey(serverKey).PublicKey;
        return (ISocketEnd)new Socket(this, socket);
    });

    public void Dispose()
    {
        Run(() =>
        {
            lock (_owned)
            {
                foreach (var item in Enumerable.Reverse(_owned))
                    item.Dispose();
                _owned.Clear();
            }
            return 0;
        }).Wait(TimeSpan.FromSeconds(30));
        _work.CompleteAdding();
        _thread.Join(TimeSpan.FromSeconds(30));
        _work.Dispose();
    }

    /// <summary>Runs <paramref name="body"/> on the NetMQ thread.</summary>
    private Task<T> Run<T>(Func<T> body)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        _work.Add(() =>
        {
            try
            {
                done.SetResult(body());
            }
            catch (Exception e)
            {
                done.SetException(e);
            }
        });
        return done.Task;
    }

    private T Own<T>(T item)
        where T : IDisposable
    {
        lock (_owned)
            _owned.Add(item);
        return item;
    }

    private sealed class Listener(LocalMachine machine, IVsockListener listener) : IListenerEnd
    {
        public VsockAddress Address => listener.LocalAddress;

        public async Task<IStreamEnd> AcceptAsync() => new Stream(machine.Own(await listener.AcceptAsync(machine._ct)), machine._ct);

        public Task CloseAsync()
        {
            listener.Dispose();
            return Task.CompletedTask;
        }
    }

    private sealed class Stream(IVsockConnection connection, CancellationToken ct) : IStreamEnd
    {
        public VsockAddress Local => connection.LocalAddress;

        public VsockAddress Remote => connection.RemoteAddress;

        public async Task SendAsync(long size, int seed)
        {
            var chunk = new byte[64 * 1024];
            for (long done = 0; done < size;)
            {
                var n = (int)Math.Min(chunk.Length, size - done);
                PayloadStream.Fill(seed, done, chunk.AsSpan(0, n));
                await connection.SendAsync(chunk.AsMemory(0, n), ct);
                done += n;
            }
        }

        public async Task<StreamDigest> ReceiveAsync(long? size = null)
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var chunk = new byte[64 * 1024];
            var wanted = size ?? long.MaxValue;
            long read = 0;
            while (read < wanted)
            {
                var n = await connection.ReceiveAsync(chunk.AsMemory(0, (int)Math.Min(chunk.Length, wanted - read)), ct);
                if (n == 0)
                    return new StreamDigest(read, Convert.ToHexStringLower(hash.GetHashAndReset()), true);
                hash.AppendData(chunk, 0, n);
                read += n;
            }
            return new StreamDigest(read, Convert.ToHexStringLower(hash.GetHashAndReset()), false);
        }

        public Task ShutdownSendAsync()
        {
            connection.ShutdownSend();
            return Task.CompletedTask;
        }

        public Task<ulong> GetOptionAsync(VsockOption option) => Task.FromResult(connection.GetOption(option));

        public Task CloseAsync()
        {
            connection.Dispose();
            return Task.CompletedTask;
        }
    }

    private sealed class Socket(LocalMachine machine, NetMQSocket socket) : ISocketEnd
    {
        public Task<string> BindAsync(string endpoint) => machine.Run(() =>
        {
            socket.VmciBind(endpoint);
            return socket.VmciLastEndpoint()!;
        });

        public Task<string> ConnectAsync(string endpoint) => machine.Run(() =>
        {
            socket.VmciConnect(endpoint);
            return socket.VmciLastEndpoint()!;
        });

        public Task UnbindAsync(string endpoint) => machine.Run(() =>
        {
            socket.VmciUnbind(endpoint);
            return 0;
        });

        public Task SubscribeAsync() => machine.Run(() =>
        {
            ((NetMQ.Sockets.SubscriberSocket)socket).SubscribeToAnyTopic();
            return 0;
        });

        public Task SendAsync(IReadOnlyList<RemoteFrame> frames) => machine.Run(() =>
        {
            var message = new NetMQMessage();
            foreach (var frame in frames)
            {
                if (frame.Text is { } text)
                    message.Append(text);
                else
                    message.Append(PayloadStream.Create((int)frame.Size, frame.Seed ?? 0));
            }
            socket.SendMultipartMessage(message);
            return 0;
        });

        public Task<IReadOnlyList<RemoteFrame>?> TryReceiveAsync(TimeSpan timeout) => machine.Run(() =>
        {
            NetMQMessage? message = null;
            return socket.TryReceiveMultipartMessage(timeout, ref message) ? Describe(message) : null;
        });

        public Task<IReadOnlyList<RemoteFrame>> EchoAsync(TimeSpan timeout) => machine.Run(() =>
        {
            NetMQMessage? message = null;
            if (!socket.TryReceiveMultipartMessage(timeout, ref message))
                throw new Xunit.Sdk.XunitException($"no message to echo arrived within {timeout.TotalSeconds:0} s");
            socket.SendMultipartMessage(message);
            return (IReadOnlyList<RemoteFrame>)Describe(message);
        });

        private static IReadOnlyList<RemoteFrame> Describe(NetMQMessage message) => [.. message.Select(f =>
        {
            var bytes = f.ToByteArray();
            return new RemoteFrame(bytes.Length <= 1024 ? Encoding.UTF8.GetString(bytes) : null, bytes.Length, null,
                Convert.ToHexStringLower(SHA256.HashData(bytes)));
        })];

        public Task CloseAsync(TimeSpan? linger = null) => machine.Run(() =>
        {
            socket.Options.Linger = linger ?? TimeSpan.Zero;
            socket.Dispose();
            return 0;
        });
    }
}
