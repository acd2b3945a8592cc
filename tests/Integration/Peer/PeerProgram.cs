using System.Globalization;
using System.Runtime.InteropServices;
using Vmci;
using Vmci.Sim;

namespace Integration.Peer;

/// <summary>
/// The program a simulated VM runs (in a container or as a child process): <c>peer VERB ARGS…</c>.
/// Its identity is the VMCI context ID in the environment variable <see cref="CidVariable"/>.
/// </summary>
/// <remarks>
/// Verbs:
/// <list type="bullet">
/// <item><c>listen PATH</c>: listens on the Unix domain socket PATH, prints <c>ready PATH</c>, serves one
/// <see cref="Exchange"/>, prints <c>served received=N sent=M</c>.</item>
/// <item><c>connect PATH SIZE IDENTITY</c>: sends a SIZE-byte payload to PATH, checks the reply came from
/// IDENTITY and echoes every byte, prints <c>exchanged sent=N received=M</c>; exit code 3 on a mismatch.</item>
/// <item><c>vsock-listen PORT</c>: listens on the simulator's vmci://*:PORT (PORT may be <c>*</c>) as the
/// machine of the environment (<see cref="SimSettings.FromEnvironment"/>), prints <c>ready vmci://CID:PORT</c>,
/// serves one exchange, prints <c>served received=N sent=M remote-cid=C</c>.</item>
/// <item><c>vsock-connect CID PORT SIZE IDENTITY</c>: like <c>connect</c>, to vmci://CID:PORT through the simulator.</item>
/// <item><c>zmq ROLE bind|connect ENDPOINT COUNT [OPTION…]</c>: a ZeroMQ role over vmci:// (see <see cref="ZmqPeer"/>).</item>
/// <item><c>vsock-probe CID PORT</c>: one raw connect through the simulator's seam to vmci://CID:PORT; prints
/// <c>result {json}</c> with <c>errno</c> = the errno name of the failure, or <c>none</c> when it connected.</item>
/// <item><c>netifs</c>: prints <c>netifs NAME…</c>, the network interfaces in /sys/class/net.</item>
/// </list>
/// Exit code 2: bad arguments or the watchdog (<see cref="Watchdog"/>) expired.
/// </remarks>
public static class PeerProgram
{
    /// <summary>The environment variable holding the peer's VMCI context ID (the simulator's own).</summary>
    public const string CidVariable = SimSettings.CidVariable;

    /// <summary>The environment variable holding the fabric directory's path (the simulator's own).</summary>
    public const string FabricVariable = SimSettings.FabricVariable;

    /// <summary>A peer gives up after this long, so that no peer outlives a broken test.</summary>
    public static readonly TimeSpan Watchdog = TimeSpan.FromSeconds(60);

    /// <summary>Runs one verb.</summary>
    /// <param name="args">The verb and its arguments.</param>
    /// <returns>The exit code.</returns>
    public static async Task<int> RunAsync(string[] args)
    {
        using var watchdog = new CancellationTokenSource(Watchdog);
        using var stop = new CancellationTokenSource();

        // SIGTERM (docker stop, or the process flavour's stop) ends a role gracefully: it reports and exits 0.
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            stop.Cancel();
        });
        try
        {
            return args switch
            {
                ["listen", var path] => await ListenAsync(path, watchdog.Token),
                ["connect", var path, var size, var identity] =>
                    await ConnectAsync(path, int.Parse(size, CultureInfo.InvariantCulture), identity, watchdog.Token),
                ["vsock-listen", var port] => await VsockListenAsync(port, watchdog.Token),
                ["vsock-connect", var cid, var port, var size, var identity] =>
                    await VsockConnectAsync(
                        VmciEndpoint.Parse($"vmci://{cid}:{port}"), int.Parse(size, CultureInfo.InvariantCulture), identity, watchdog.Token),
                ["zmq", .. var zmqArgs] => await ZmqPeer.RunAsync(zmqArgs, stop.Token, watchdog.Token),
                ["vsock-probe", var cid, var port] => await ProbeAsync(VmciEndpoint.Parse($"vmci://{cid}:{port}"), watchdog.Token),
                ["netifs"] => NetworkInterfaces(),
                _ => Usage(args),
            };
        }
        catch (OperationCanceledException) when (watchdog.IsCancellationRequested)
        {
            await Console.Error.WriteLineAsync($"peer {string.Join(' ', args)}: watchdog expired after {Watchdog}");
            return 2;
        }
    }

    private static async Task<int> ListenAsync(string path, CancellationToken ct)
    {
        using var listener = Exchange.Listen(path);
        try
        {
            Console.WriteLine($"ready {path}");
            var (received, sent) = await Exchange.ServeOnceAsync(listener, Exchange.Identity(OwnCid()), ct);
            Console.WriteLine($"served received={received.Length} sent={sent}");
            return 0;
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static async Task<int> ConnectAsync(string path, int size, string identity, CancellationToken ct)
    {
        var payload = Exchange.Payload(size);
        var reply = await Exchange.ExchangeAsync(path, payload, ct);
        return await CheckReplyAsync(path, payload, reply, identity);
    }

    private static async Task<int> VsockListenAsync(string port, CancellationToken ct)
    {
        var network = SimSettings.FromEnvironment().Join();
        var requested = VmciEndpoint.Parse($"vmci://*:{port}");
        using var listener = network.Listen(new VsockAddress(VmciCid.Any, requested.Port));
        Console.WriteLine($"ready {new VsockAddress(network.LocalCid, listener.LocalAddress.Port)}");
        using var connection = await listener.AcceptAsync(ct);
        var (received, sent) = await Exchange.ServeAsync(connection, Exchange.Identity(network.LocalCid), ct);
        Console.WriteLine($"served received={received.Length} sent={sent} remote-cid={connection.RemoteAddress.Cid}");
        return 0;
    }

    private static async Task<int> VsockConnectAsync(VmciEndpoint remote, int size, string identity, CancellationToken ct)
    {
        var network = SimSettings.FromEnvironment().Join();
        var payload = Exchange.Payload(size);
        using var connection = await network.ConnectAsync(new VsockAddress(remote.Cid, remote.Port), cancellationToken: ct);
        var reply = await Exchange.ExchangeAsync(connection, payload, ct);
        return await CheckReplyAsync(remote.ToString(), payload, reply, identity);
    }

    private static async Task<int> CheckReplyAsync(string server, byte[] payload, byte[] reply, string identity)
    {
        Console.WriteLine($"exchanged sent={payload.Length} received={reply.Length}");
        if (!reply.AsSpan().SequenceEqual(Exchange.Reply(payload, identity)))
        {
            await Console.Error.WriteLineAsync($"peer: the reply of {server} is not '{identity}' echoing the {payload.Length}-byte payload");
            return 3;
        }

        return 0;
    }

    private static async Task<int> ProbeAsync(VmciEndpoint remote, CancellationToken ct)
    {
        var network = SimSettings.FromEnvironment().Join();
        string errno;
        try
        {
            using var connection = await network.ConnectAsync(new VsockAddress(remote.Cid, remote.Port), cancellationToken: ct);
            errno = "none";
        }
        catch (VmciException e)
        {
            errno = e.Errno.ToString();
        }

        Console.WriteLine(new PeerResult("probe", network.LocalCid, 0, 0, 0, "", new Dictionary<string, int>(), Errno: errno).ToLine());
        return 0;
    }

    private static int NetworkInterfaces()
    {
        var names = Directory.GetFileSystemEntries("/sys/class/net").Select(Path.GetFileName).Order(StringComparer.Ordinal);
        Console.WriteLine($"netifs {string.Join(' ', names)}");
        return 0;
    }

    private static uint OwnCid() =>
        uint.TryParse(Environment.GetEnvironmentVariable(CidVariable), CultureInfo.InvariantCulture, out var cid)
            ? cid
            : throw new InvalidOperationException($"peer: the environment variable {CidVariable} must hold the peer's VMCI context ID");

    private static int Usage(string[] args)
    {
        Console.Error.WriteLine($"peer {string.Join(' ', args)}: unknown verb; use listen PATH | connect PATH SIZE IDENTITY | vsock-listen PORT | vsock-connect CID PORT SIZE IDENTITY | vsock-probe CID PORT | netifs | {ZmqPeer.Usage}");
        return 2;
    }
}
