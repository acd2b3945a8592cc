using System.CommandLine;

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
        var endpoint = new Argument<string>("endpoint") { Description = "vmci://CID:PORT to connect to, or with --listen the address to bind (vmci://*:PORT)" };
        var listen = new Option<bool>("--listen", "-l") { Description = "accept one connection instead of connecting" };
        var command = new Command("cat", "Copy stdin to a vsock stream and the stream to stdout (socat-like); stdin's end half-closes the stream.")
        {
            endpoint, listen,
        };
        backend.AddTo(command);
        command.SetAction((parse, ct) => RunAsync(backend, parse, parse.GetValue(endpoint)!, parse.GetValue(listen), ct));
        return command;
    }

    private static async Task<int> RunAsync(BackendOptions backend, ParseResult parse, string endpointText, bool listen, CancellationToken ct)
    {
        try
        {
            var network = backend.Create(parse);
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
                // Both directions run to their end (like socat without -t): the stream closes once stdin has
                // ended and the peer has half-closed.
                await CopyDownAsync(connection, stdout, ct).ConfigureAwait(false);
                await upload.ConfigureAwait(false);
            }
            return 0;
        }
        catch (VmciException e)
        {
            await Console.Error.WriteLineAsync($"vmci: {e.Message}").ConfigureAwait(false);
            return 1;
        }
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
