using System.Globalization;
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
/// <see cref="UdsExchange"/>, prints <c>served received=N sent=M</c>.</item>
/// <item><c>connect PATH SIZE IDENTITY</c>: sends a SIZE-byte payload to PATH, checks the reply came from
/// IDENTITY and echoes every byte, prints <c>exchanged sent=N received=M</c>; exit code 3 on a mismatch.</item>
/// <item><c>netifs</c>: prints <c>netifs NAME…</c>, the network interfaces in /sys/class/net.</item>
/// </list>
/// Exit code 2: bad arguments or the watchdog (<see cref="Watchdog"/>) expired.
/// </remarks>
public static class PeerProgram
{
    /// <summary>The environment variable holding the peer's VMCI context ID (the simulator's own).</summary>
    public const string CidVariable = SimNetwork.CidVariable;

    /// <summary>The environment variable holding the fabric directory's path (the simulator's own).</summary>
    public const string FabricVariable = SimFabric.FabricVariable;

    /// <summary>A peer gives up after this long, so that no peer outlives a broken test.</summary>
    public static readonly TimeSpan Watchdog = TimeSpan.FromSeconds(60);

    /// <summary>Runs one verb.</summary>
    /// <param name="args">The verb and its arguments.</param>
    /// <returns>The exit code.</returns>
    public static async Task<int> RunAsync(string[] args)
    {
        using var watchdog = new CancellationTokenSource(Watchdog);
        try
        {
            return args switch
            {
                ["listen", var path] => await ListenAsync(path, watchdog.Token),
                ["connect", var path, var size, var identity] =>
                    await ConnectAsync(path, int.Parse(size, CultureInfo.InvariantCulture), identity, watchdog.Token),
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
        using var listener = UdsExchange.Listen(path);
        try
        {
            Console.WriteLine($"ready {path}");
            var (received, sent) = await UdsExchange.ServeOnceAsync(listener, UdsExchange.Identity(OwnCid()), ct);
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
        var payload = UdsExchange.Payload(size);
        var reply = await UdsExchange.ExchangeAsync(path, payload, ct);
        Console.WriteLine($"exchanged sent={payload.Length} received={reply.Length}");
        if (!reply.AsSpan().SequenceEqual(UdsExchange.Reply(payload, identity)))
        {
            await Console.Error.WriteLineAsync($"peer connect {path}: the reply is not '{identity}' echoing the {size}-byte payload");
            return 3;
        }

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
        Console.Error.WriteLine($"peer {string.Join(' ', args)}: unknown verb; use listen PATH | connect PATH SIZE IDENTITY | netifs");
        return 2;
    }
}
