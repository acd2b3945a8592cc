using System.CommandLine;
using Vmci.Cli.Shell;
using Vmci.Cli.Smoke;
using Vmci.TestKit.Agent;

namespace Vmci.Cli.Agent;

/// <summary>
/// <c>vmci agent --bind vmci://*:PORT</c>: the other machine of the two-machine conformance cases. It listens on the
/// transport under test (no network needed) and does what <c>vmci conformance --peer vmci://CID:PORT</c> on another
/// machine asks, until Ctrl-C or SIGTERM (exit code 0); a bind that fails exits 1, an unusable backend 3
/// (<see cref="CommandHost.Classify"/>).
/// </summary>
internal static class AgentCommand
{
    public static Command Create()
    {
        var backend = new BackendOptions();
        var bind = new Option<string>("--bind") { Description = "the vmci address to listen on, e.g. vmci://*:5000 (vmci://*:* picks a port)", Required = true }
            .BindEndpoint();
        var command = new Command("agent", "Serve the two-machine conformance cases on this machine (run 'vmci conformance --peer vmci://CID:PORT' on the other one).")
        {
            bind,
        };
        backend.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            var network = backend.Create(parse);
            var address = VmciEndpoint.Parse(parse.GetValue(bind)!).Resolve(network.GetLocalCid);
            var agent = AgentServer.Start(network, address, Console.Error);
            try
            {
                Console.WriteLine($"agent: listening on {agent.Address} ({agent.Machine})");
                await Task.Delay(Timeout.Infinite, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                Console.WriteLine("agent: stopping");
            }
            finally
            {
                await agent.DisposeAsync().ConfigureAwait(false);
            }
            return ExitCodes.Success;
        });
        return command;
    }
}
