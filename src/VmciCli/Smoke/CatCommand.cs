using System.CommandLine;
using System.CommandLine.Parsing;
using Vmci.Cli.Shell;

namespace Vmci.Cli.Smoke;

/// <summary>
/// <c>vmci cat [--listen] ENDPOINT</c>: socat-like, a raw vsock byte stream between stdin/stdout and an endpoint
/// (no ZeroMQ framing), so it talks to <c>socat VSOCK-LISTEN/VSOCK-CONNECT</c> and to itself.
/// </summary>
internal static class CatCommand
{
    public static Command Create()
    {
        var backend = new BackendOptions();
        var listen = new Option<bool>("--listen", "-l") { Description = "accept one connection instead of connecting" };
        var endpoint = new Argument<string>("endpoint") { Description = "vmci://CID:PORT to connect to, or with --listen the address to bind (vmci://*:PORT)" }
            .Endpoint(result => !((result.Parent as CommandResult)?.GetValue(listen) ?? false));
        var command = new Command("cat", "Copy stdin to a vsock stream and the stream to stdout (socat-like); stdin's end half-closes the stream.")
        {
            endpoint, listen,
        };
        backend.AddTo(command);
        command.SetAction((parse, ct) => RunAsync(backend.Create(parse), parse.GetValue(endpoint)!, parse.GetValue(listen), ct));
        return command;
    }

    private static async Task<int> RunAsync(IVsockNetwork network, string endpointText, bool listen, CancellationToken ct)
    {
        var address = VmciEndpoint.Parse(endpointText).Resolve(network.GetLocalCid);
        IVsockConnection connection;
        if (listen)
        {
            using var listener = network.Listen(address);
            await Console.Error.WriteLineAsync($"cat: listening on {listener.LocalAddress}").ConfigureAwait(false);
            connection = await listener.AcceptAsync(ct).ConfigureAwait(false);
            await Console.Error.WriteLineAsync($"cat: connection from {connection.RemoteAddress}").ConfigureAwait(false);
        }
        else
        {
            connection = await network.ConnectAsync(address, null, ct).ConfigureAwait(false);
        }
        using (connection)
        {
            using var stdin = Console.OpenStandardInput();
            using var stdout = Console.OpenStandardOutput();
            var upload = Task.Run(() => CopyUpAsync(stdin, connection, ct), ct);
            try
            {
                // Both directions run to their end (like socat without -t): the stream closes once stdin has ended and
                // the peer has half-closed. A read of stdin does not always notice cancellation: it is not waited for then.
                await CopyDownAsync(connection, stdout, ct).ConfigureAwait(false);
                await upload.WaitAsync(ct).ConfigureAwait(false);
            }
            catch (Exception e) when (ct.IsCancellationRequested && e is OperationCanceledException or VmciException { Errno: Errno.ECANCELED })
            {
                return ExitCodes.Success; // stopped by SIGINT/SIGTERM, as socat is
            }
        }
        return ExitCodes.Success;
    }

    private static async Task CopyUpAsync(Stream stdin, IVsockConnection connection, CancellationToken ct)
    {
        var buffer = new byte[64 * 1024];
        int n;
        while ((n = await stdin.ReadAsync(buffer, ct).ConfigureAwait(false)) > 0)
            await connection.SendAsync(buffer.AsMemory(0, n), ct).ConfigureAwait(false);
        connection.ShutdownSend();
    }

    private static async Task CopyDownAsync(IVsockConnection connection, Stream stdout, CancellationToken ct)
    {
        var buffer = new byte[64 * 1024];
        int n;
        while ((n = await connection.ReceiveAsync(buffer, ct).ConfigureAwait(false)) > 0)
        {
            await stdout.WriteAsync(buffer.AsMemory(0, n), ct).ConfigureAwait(false);
            await stdout.FlushAsync(ct).ConfigureAwait(false);
        }
    }
}
