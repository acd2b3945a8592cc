using System.CommandLine;
using System.CommandLine.Parsing;
using Vmci.Cli.Shell;
using Vmci.Cli.Smoke;

namespace Vmci.Cli.Forward;

/// <summary>
/// <c>vmci forward LISTEN CONNECT</c>: socat-like, so that any program joins a vsock fabric. It listens on one address
/// and, for each client it accepts, opens one connection to the other and copies bytes both ways, each half-close
/// passed on. One side is <c>vmci://</c>, the other <c>tcp:IP:PORT</c> or <c>unix:PATH</c>, in either direction.
/// </summary>
internal static class ForwardCommand
{
    public static Command Create()
    {
        var backend = new BackendOptions();
        var listen = new Argument<string>("listen")
        {
            Description = "where to accept clients: tcp:IP:PORT (port 0: any free port, printed), unix:PATH, or vmci://*:PORT",
        };
        var connect = new Argument<string>("connect")
        {
            Description = "where each client is forwarded: vmci://CID:PORT, or tcp:IP:PORT / unix:PATH when listening on vmci://",
        };
        var count = new Option<int?>("--count")
        {
            Description = "exit once this many clients have come and gone, 1 to 2147483647 (default: run until Ctrl-C or SIGTERM)",
        }.InRange(1, int.MaxValue, "connections");
        listen.Validators.Add(result => Check(result, listen.Name, listening: true));
        connect.Validators.Add(result => Check(result, connect.Name, listening: false));
        var command = new Command(
            "forward",
            "Forward TCP or Unix-socket clients to a vsock endpoint, or vsock clients to TCP or a Unix socket (socat-like): one "
            + "connection per client, bytes copied both ways, half-close passed on.")
        {
            listen, connect, count,
        };
        command.Validators.Add(result =>
        {
            var sides = new[] { result.GetValue(listen), result.GetValue(connect) };
            if (sides.All(s => s is not null) && sides.Count(s => s!.StartsWith(VmciEndpoint.Scheme + "://", StringComparison.Ordinal)) != 1)
                result.AddError($"forward: exactly one of listen and connect is a vmci:// endpoint (got '{sides[0]}' and '{sides[1]}')");
        });
        backend.AddTo(command);
        command.SetAction((parse, ct) => new Forwarder(
            backend.Create(parse),
            ForwardAddress.TryParse(parse.GetValue(listen)!, listening: true, out _)!,
            ForwardAddress.TryParse(parse.GetValue(connect)!, listening: false, out _)!,
            parse.GetValue(count)).RunAsync(ct));
        return command;
    }

    private static void Check(ArgumentResult result, string name, bool listening)
    {
        if (result.Tokens.Count == 0)
            return;
        var text = result.Tokens[^1].Value;
        if (ForwardAddress.TryParse(text, listening, out var error) is null)
            result.AddError(Validators.Rule(name, text, error));
    }
}
