using NetMQ;
using NetMQ.Sockets;
using Vmci.TestKit;

namespace Vmci.Transport.Tests;

/// <summary>
/// Closing a socket honours its linger: what NetMQ still flushes into a vmci relay after Dispose is forwarded,
/// as libzmq over tcp would deliver it (found by the integration scenarios: a PUSH that sent and closed at once
/// lost its messages).
/// </summary>
public sealed class LingerTests : IDisposable
{
    private readonly Fabric _fabric = new();

    public void Dispose() => _fabric.Dispose();

    [Fact]
    public void Dispose_PushWithLinger_EveryMessageSentBeforeDisposeArrives()
    {
        const int count = 2000;
        var pull = _fabric.Socket(new PullSocket(), _fabric.Guest);
        pull.VmciBind("vmci://*:*");
        var endpoint = "vmci://3:" + pull.VmciLastEndpoint()![(pull.VmciLastEndpoint()!.LastIndexOf(':') + 1)..];

        using (var push = new PushSocket())
        {
            push.Options.Linger = TimeSpan.FromSeconds(10);
            push.VmciOptions().Network = _fabric.Host;
            push.VmciConnect(endpoint);
            for (var i = 0; i < count; i++)
                push.SendFrame(i.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        for (var i = 0; i < count; i++)
        {
            Assert.True(pull.TryReceiveFrameString(Watchdog.DefaultTimeout, out var frame), $"message {i} of {count} never arrived");
            Assert.Equal(i.ToString(System.Globalization.CultureInfo.InvariantCulture), frame);
        }
    }

    [Fact]
    public void Dispose_LingerZero_RelaysCloseAtOnce()
    {
        var pull = _fabric.Socket(new PullSocket(), _fabric.Guest);
        pull.VmciBind("vmci://*:*");
        var push = new PushSocket();
        push.Options.Linger = TimeSpan.Zero;
        push.VmciOptions().Network = _fabric.Host;
        push.VmciConnect("vmci://3:" + pull.VmciLastEndpoint()![(pull.VmciLastEndpoint()!.LastIndexOf(':') + 1)..]);
        push.SendFrame("x");
        Assert.True(pull.TryReceiveFrameString(Watchdog.DefaultTimeout, out _));
        var state = Internal.SocketState.Find(push)!;

        push.Dispose();

        _fabric.Watchdog.Until(() => !state.HasEndpoints, "the disposed socket's relays closed");
    }

    [Fact]
    public void FinalLinger_SetJustBeforeDispose_ReadEvenWhenTheSocketWasCollected()
    {
        // A using block, then a GC before the sweeper's tick: the wrapper is gone, the linger set last must not be.
        var state = ConnectSetLingerAndDispose(TimeSpan.FromSeconds(30));
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();

        Assert.Equal(TimeSpan.FromSeconds(30), state.FinalLinger());
        Assert.Equal(TimeSpan.Zero, state.Linger); // the value at connect time, which would have been used
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private Internal.SocketState ConnectSetLingerAndDispose(TimeSpan lingerAtClose)
    {
        using var push = new PushSocket();
        push.Options.Linger = TimeSpan.Zero;
        push.VmciOptions().Network = _fabric.Host;
        push.VmciConnect("vmci://3:4999");
        push.Options.Linger = lingerAtClose;
        return Internal.SocketState.Find(push)!;
    }
}
