using System.Globalization;
using NetMQ;
using NetMQ.Sockets;
using Vmci.TestKit;
using Vmci.Transport.Internal;

namespace Vmci.Transport.Tests;

/// <summary>
/// Hostile and careless peers leave nothing behind: after many connections that close at once, speak garbage or never
/// greet (and are shut out by the handshake bound), and after the server socket is gone, this process is back to its
/// descriptors and its vmci threads. Both modes. Runs alone (process-wide counts).
/// </summary>
[Collection(nameof(ProcessWideCollection))]
public sealed class LeakTests : IDisposable
{
    private readonly Fabric _fabric = new();

    public void Dispose() => _fabric.Dispose();

    public static TheoryData<VmciTransportMode> Modes => [VmciTransportMode.Direct, VmciTransportMode.Relay];

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task HostilePeers_Many_NoDescriptorOrThreadLeft(VmciTransportMode mode)
    {
        await RoundAsync(mode); // warm up: NetMQ's context, the simulator's poll timer, the runtime's epoll and timer threads
        _fabric.Watchdog.Until(() => !SocketState.Sweeping, "the warm-up's sockets were swept");
        var fds = Descriptors();
        var threads = VmciThreads();

        await RoundAsync(mode);

        _fabric.Watchdog.Until(() => !SocketState.Sweeping && Descriptors() <= fds, $"descriptors back to {fds} (now {Descriptors()})");
        _fabric.Watchdog.Until(() => VmciThreads() <= threads, $"vmci threads back to {threads} (now {VmciThreads()})");
    }

    private async Task RoundAsync(VmciTransportMode mode)
    {
        var ct = TestContext.Current.CancellationToken;
        using var server = new PullSocket();
        server.Options.Linger = TimeSpan.Zero;
        server.VmciOptions().Network = _fabric.Host;
        server.VmciOptions().TransportMode = mode;
        server.VmciOptions().HandshakeTimeout = TimeSpan.FromMilliseconds(200);
        server.VmciBind("vmci://*:*");
        var bound = server.VmciLastEndpoint()!;
        var endpoint = SocketState.Find(server)!.FindBind(bound)!;
        var target = new VsockAddress(VmciCid.Host, uint.Parse(bound[(bound.LastIndexOf(':') + 1)..], CultureInfo.InvariantCulture));
        var silent = new List<IVsockConnection>();
        for (var i = 0; i < 60; i++)
        {
            var c = await _fabric.Guest.ConnectAsync(target, null, ct).AsTask().WaitAsync(Watchdog.DefaultTimeout, ct);
            switch (i % 3)
            {
                case 0:
                    c.Dispose();
                    break;
                case 1:
                    await c.SendAsync("\xFF\0\0\0\0\0\0\0\x01\x7Fgarbage and more garbage that is no greeting at all, 64 bytes or more......"u8.ToArray(), ct);
                    c.Dispose();
                    break;
                default:
                    silent.Add(c);
                    break;
            }
        }
        _fabric.Watchdog.Until(() => endpoint.HandshakeTimeouts >= 20 && endpoint.ConnectionCount == 0,
            "every connection ended: closed, broken or shut out by the handshake bound");
        foreach (var c in silent)
            c.Dispose();
        using var client = new PushSocket();
        client.Options.Linger = TimeSpan.Zero;
        client.VmciOptions().Network = _fabric.Guest;
        client.VmciOptions().TransportMode = mode;
        client.VmciConnect(Fabric.ToHost(bound));
        client.SendFrame("still serving");
        Assert.Equal("still serving", Delivery.ReceiveString(server));
    }

    private static int Descriptors() => Directory.GetFileSystemEntries("/proc/self/fd").Length;

    private static int VmciThreads() => Directory.GetDirectories("/proc/self/task")
        .Count(t => File.ReadAllText(Path.Combine(t, "comm")).StartsWith("vmci", StringComparison.Ordinal));
}
