using System.Diagnostics;
using System.Globalization;
using NetMQ;
using NetMQ.Sockets;
using Vmci.Sim;
using Vmci.Transport;

namespace Vmci.Reliability;

/// <summary>
/// A peer machine in a child process: this test executable started again with <c>VMCI_RELIABILITY_CHILD=echo</c>.
/// It joins the fabric of the documented environment (VMCI_SIM_FABRIC, VMCI_SIM_CID), binds a NetMQ REP socket at
/// <c>vmci://*:VMCI_RELIABILITY_PORT</c> (<c>*</c> when unset), prints <c>PORT p</c> and echoes every request until
/// its stdin closes (or it is killed).
/// </summary>
internal sealed class Child : IDisposable
{
    private const string ModeVariable = "VMCI_RELIABILITY_CHILD";
    private const string PortVariable = "VMCI_RELIABILITY_PORT";
    private readonly Process _process;

    private Child(Process process) => _process = process;

    public static bool IsChild => Environment.GetEnvironmentVariable(ModeVariable) is { Length: > 0 };

    public bool HasExited => _process.HasExited;

    public static Child StartEcho(string fabric, uint cid, uint? port)
    {
        var info = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(typeof(Child).Assembly.Location);
        info.Environment[ModeVariable] = "echo";
        info.Environment[SimSettings.FabricVariable] = fabric;
        info.Environment[SimSettings.CidVariable] = cid.ToString(CultureInfo.InvariantCulture);
        info.Environment["VMCI_BACKEND"] = "sim";
        info.Environment[PortVariable] = port?.ToString(CultureInfo.InvariantCulture);
        return new Child(Process.Start(info) ?? throw new InvalidOperationException("cannot start the child process"));
    }

    /// <summary>Reads the child's <c>PORT p</c> line.</summary>
    public async Task<uint> ReadPortAsync()
    {
        var line = await _process.StandardOutput.ReadLineAsync(TempFabric.Ct).AsTask().Guard()
            ?? throw new InvalidOperationException("child exited: " + await _process.StandardError.ReadToEndAsync(TempFabric.Ct));
        Assert.StartsWith("PORT ", line, StringComparison.Ordinal);
        return uint.Parse(line[5..], CultureInfo.InvariantCulture);
    }

    public void Kill()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    public void Dispose()
    {
        if (!_process.HasExited)
            Kill();
        _process.Dispose();
    }

    public static int Run()
    {
        var stdinClosed = Task.Run(() => Console.In.ReadToEnd());
        var network = SimSettings.FromEnvironment().Join();
        using var rep = new ResponseSocket();
        rep.Options.Linger = TimeSpan.Zero;
        rep.VmciOptions().Network = network;
        var port = Environment.GetEnvironmentVariable(PortVariable) is { Length: > 0 } p ? p : "*";
        rep.VmciBind("vmci://*:" + port);
        var bound = rep.VmciLastEndpoint()!;
        Console.WriteLine("PORT " + bound[(bound.LastIndexOf(':') + 1)..]);
        while (!stdinClosed.IsCompleted)
        {
            var message = new NetMQMessage();
            if (rep.TryReceiveMultipartMessage(TimeSpan.FromMilliseconds(100), ref message))
                rep.SendMultipartMessage(message);
        }
        return 0;
    }
}
