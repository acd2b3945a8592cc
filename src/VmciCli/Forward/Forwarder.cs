using System.Globalization;
using System.Net.Sockets;
using Vmci.Cli.Shell;

namespace Vmci.Cli.Forward;

/// <summary>The running forward: the accept loop and one <see cref="Pipe"/> per client.</summary>
internal sealed class Forwarder(IVsockNetwork network, ForwardAddress listen, ForwardAddress connect, int? count)
{
    private int _done;

    public async Task<int> RunAsync(CancellationToken ct)
    {
        using var listener = Listen(out var listening);
        Console.WriteLine($"forward: listening on {listening} -> {connect.Text} ({network.Name})");
        Console.Out.Flush();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var clients = new List<Task>();
        var accepted = 0;
        try
        {
            while (count is null || accepted < count)
            {
                var (client, from) = await listener.AcceptAsync(stop.Token).ConfigureAwait(false);
                var id = ++accepted;
                clients.RemoveAll(task => task.IsCompleted); // a forward may run for days: keep only the open ones
                clients.Add(ServeAsync(id, client, from, stop.Token));
            }
            await Task.WhenAll(clients).ConfigureAwait(false);
        }
        catch (Exception e) when (ct.IsCancellationRequested && e is OperationCanceledException or VmciException { Errno: Errno.ECANCELED } or SocketException)
        {
            // Stopped by SIGINT or SIGTERM, as socat is: the open connections are closed.
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(clients).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
        }
        Console.WriteLine($"forward: {_done} connection(s) forwarded");
        return ExitCodes.Success;
    }

    private async Task ServeAsync(int id, IStreamEnd client, string from, CancellationToken ct)
    {
        using (client)
        {
            IStreamEnd backend;
            try
            {
                backend = await ConnectAsync(ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is VmciException or SocketException)
            {
                await Console.Error.WriteLineAsync($"forward: #{id} from {from}: connecting to {connect.Text} failed: {e.Message}").ConfigureAwait(false);
                return;
            }
            using (backend)
            {
                try
                {
                    var (up, down) = await Pipe.RunAsync(client, backend, ct).ConfigureAwait(false);
                    await Console.Error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"forward: #{id} from {from}: closed ({up} bytes to {connect.Text}, {down} back)")).ConfigureAwait(false);
                }
                catch (Exception e) when (e is VmciException or SocketException or IOException or OperationCanceledException)
                {
                    if (!ct.IsCancellationRequested)
                        await Console.Error.WriteLineAsync($"forward: #{id} from {from}: {e.Message}").ConfigureAwait(false);
                }
                Interlocked.Increment(ref _done);
            }
        }
    }

    private IAcceptor Listen(out string listening)
    {
        if (listen.Kind == ForwardKind.Vmci)
        {
            var vsock = network.Listen(VmciEndpoint.Parse(listen.Text).Resolve(network.GetLocalCid));
            listening = vsock.LocalAddress.ToString();
            return new VsockAcceptor(vsock);
        }
        var socket = listen.NewSocket();
        try
        {
            socket.Bind(listen.SocketEndPoint!);
            socket.Listen(128);
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw VmciError.Create(ToErrno(e), VmciOperation.Bind, listen.Text, e.Message, e);
        }
        listening = ForwardAddress.Describe(socket.LocalEndPoint, listen);
        return new SocketAcceptor(socket);
    }

    private async Task<IStreamEnd> ConnectAsync(CancellationToken ct)
    {
        if (connect.Kind == ForwardKind.Vmci)
        {
            var address = VmciEndpoint.Parse(connect.Text).Resolve(network.GetLocalCid);
            return new VsockEnd(await network.ConnectAsync(address, null, ct).ConfigureAwait(false));
        }
        var socket = connect.NewSocket();
        try
        {
            await socket.ConnectAsync(connect.SocketEndPoint!, ct).ConfigureAwait(false);
            return new SocketEnd(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static Errno ToErrno(SocketException e) => e.SocketErrorCode switch
    {
        SocketError.AddressAlreadyInUse => Errno.EADDRINUSE,
        SocketError.AddressNotAvailable => Errno.EADDRNOTAVAIL,
        SocketError.AccessDenied => Errno.EACCES,
        _ => Errno.EINVAL,
    };

    private interface IAcceptor : IDisposable
    {
        Task<(IStreamEnd End, string From)> AcceptAsync(CancellationToken ct);
    }

    private sealed class SocketAcceptor(Socket socket) : IAcceptor
    {
        public async Task<(IStreamEnd End, string From)> AcceptAsync(CancellationToken ct)
        {
            var client = await socket.AcceptAsync(ct).ConfigureAwait(false);
            if (client.ProtocolType == ProtocolType.Tcp)
                client.NoDelay = true;
            return (new SocketEnd(client), client.RemoteEndPoint?.ToString() is { Length: > 0 } from ? from : "a client");
        }

        public void Dispose() => socket.Dispose();
    }

    private sealed class VsockAcceptor(IVsockListener listener) : IAcceptor
    {
        public async Task<(IStreamEnd End, string From)> AcceptAsync(CancellationToken ct)
        {
            var connection = await listener.AcceptAsync(ct).ConfigureAwait(false);
            return (new VsockEnd(connection), connection.RemoteAddress.ToString());
        }

        public void Dispose() => listener.Dispose();
    }
}
