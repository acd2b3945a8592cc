using Integration.Peer;
using NetMQ;
using Vmci;

namespace Integration.Harness;

/// <summary>
/// A ZeroMQ role played by the host (CID 2, the test process) on a thread of its own, with a socket that
/// stays open until <see cref="FinishAsync"/>, so that its last messages reach the peers before it closes.
/// </summary>
public sealed class HostRole : IDisposable
{
    private readonly CancellationTokenSource _release = new();
    private readonly TaskCompletionSource<string> _endpoint = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task<PeerResult> _result = Task.FromResult<PeerResult>(null!);

    private HostRole()
    {
    }

    /// <summary>The socket's address once bound or connected (see <see cref="ZmqRoles.Reachable"/>).</summary>
    public Task<string> Endpoint => _endpoint.Task;

    /// <summary>Opens a socket with <paramref name="open"/> and plays <paramref name="play"/> on it.</summary>
    /// <param name="open">Opens and binds or connects the socket (see <see cref="ZmqRoles.Open"/>).</param>
    /// <param name="play">The role; its token is cancelled by <see cref="FinishAsync"/> (ends a role without a count).</param>
    /// <param name="ct">The watchdog.</param>
    /// <returns>The running role.</returns>
    public static HostRole Start(Func<NetMQSocket> open, Func<NetMQSocket, CancellationToken, PeerResult> play, CancellationToken ct)
    {
        var role = new HostRole();
        role._result = Task.Run(
            () =>
            {
                try
                {
                    using var socket = open();
                    role._endpoint.SetResult(ZmqRoles.Reachable(socket, VmciCid.Host));
                    var result = play(socket, role._release.Token);
                    WaitHandle.WaitAny([role._release.Token.WaitHandle, ct.WaitHandle]);
                    ct.ThrowIfCancellationRequested();
                    return result;
                }
                catch (Exception e)
                {
                    role._endpoint.TrySetException(e);
                    throw;
                }
            },
            ct);
        return role;
    }

    /// <summary>Ends the role (and its wait), closes the socket and returns what the role saw.</summary>
    /// <returns>The role's result.</returns>
    public async Task<PeerResult> FinishAsync()
    {
        await _release.CancelAsync();
        return await _result;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _release.Cancel();
        _release.Dispose();
    }
}
