using System.Net.Sockets;
using Vmci.TestKit;
using Vmci.Vsock.Linux;

namespace VmciVsock.Tests;

/// <summary>
/// The epoll-based readiness waits behind connect and accept, exercised on Unix domain sockets (the machine's own
/// AF_VSOCK is never opened): a wait completes on its event, is cancelled by its token, and lets go of the descriptor.
/// </summary>
public sealed class ReadinessTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("vmci-ready-").FullName;
    private readonly Watchdog _watchdog = Watchdog.Start(TestContext.Current.CancellationToken);

    [Fact]
    public async Task WaitAsync_Listener_CompletesWhenAConnectionArrives()
    {
        using var listener = Listen("a");
        var wait = Readiness.Shared.WaitAsync(listener.SafeHandle, Interop.EPOLLIN, _watchdog.Token);
        Assert.False(wait.IsCompleted);

        using var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await client.ConnectAsync(new UnixDomainSocketEndPoint(Path.Combine(_directory, "a")), _watchdog.Token);

        await _watchdog.Guard(wait);
        using var accepted = listener.Accept();
    }

    [Fact]
    public async Task WaitAsync_WritableSocket_CompletesAtOnce()
    {
        var (a, b) = Pair();
        using (a)
        using (b)
            await _watchdog.Guard(Readiness.Shared.WaitAsync(a.SafeHandle, Interop.EPOLLOUT, _watchdog.Token));
    }

    [Fact]
    public async Task WaitAsync_Cancelled_ThrowsAndReleasesTheDescriptor()
    {
        var listener = Listen("b");
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(_watchdog.Token);
        var wait = Readiness.Shared.WaitAsync(listener.SafeHandle, Interop.EPOLLIN, cancel.Token);

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _watchdog.Guard(wait));
        listener.Dispose();
        Assert.True(listener.SafeHandle.IsClosed, "the wait still held a reference on the descriptor");
    }

    [Fact]
    public async Task WaitAsync_AlreadyCancelledToken_ThrowsWithoutRegistering()
    {
        using var listener = Listen("c");
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Readiness.Shared.WaitAsync(listener.SafeHandle, Interop.EPOLLIN, new CancellationToken(true)));
        // Registering the same descriptor again works: nothing was left behind in the epoll set.
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(_watchdog.Token);
        var wait = Readiness.Shared.WaitAsync(listener.SafeHandle, Interop.EPOLLIN, cancel.Token);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _watchdog.Guard(wait));
    }

    [Fact]
    public async Task WaitAsync_ManyDescriptors_EachCompletesOnItsOwnEvent()
    {
        var listeners = Enumerable.Range(0, 32).Select(i => Listen("m" + i)).ToList();
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(_watchdog.Token);
        try
        {
            var waits = listeners.Select(l => Readiness.Shared.WaitAsync(l.SafeHandle, Interop.EPOLLIN, cancel.Token)).ToList();
            var clients = new List<Socket>();
            for (var i = 0; i < listeners.Count; i += 2)
            {
                var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                clients.Add(client);
                await client.ConnectAsync(new UnixDomainSocketEndPoint(Path.Combine(_directory, "m" + i)), _watchdog.Token);
            }
            await _watchdog.Guard(Task.WhenAll(waits.Where((_, i) => i % 2 == 0)));
            Assert.All(waits.Where((_, i) => i % 2 == 1), w => Assert.False(w.IsCompleted));
            foreach (var client in clients)
                client.Dispose();
        }
        finally
        {
            await cancel.CancelAsync(); // the waits nobody connected to let go of their descriptors
            foreach (var listener in listeners)
                listener.Dispose();
        }
    }

    public void Dispose()
    {
        _watchdog.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private Socket Listen(string name)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(Path.Combine(_directory, name)));
        socket.Listen(8);
        return socket;
    }

    private (Socket, Socket) Pair()
    {
        using var listener = Listen("pair");
        var a = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        a.Connect(new UnixDomainSocketEndPoint(Path.Combine(_directory, "pair")));
        return (a, listener.Accept());
    }
}
