using System.Diagnostics;

namespace VmciCli.Tests;

/// <summary>The real <c>vmci</c> program (vmci.dll beside the tests), started on a private simulator fabric.</summary>
internal static class VmciTool
{
    /// <summary>Starts <c>vmci ARGS</c> with <c>VMCI_SIM_FABRIC=fabric</c>, the simulator backend and no CID from the environment.</summary>
    public static Process Start(string fabric, string[] args, params (string Name, string Value)[] env)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "vmci.dll"));
        foreach (var a in args)
            start.ArgumentList.Add(a);
        start.Environment["VMCI_SIM_FABRIC"] = fabric;
        start.Environment["VMCI_BACKEND"] = "sim";
        start.Environment.Remove("VMCI_SIM_CID");
        foreach (var (name, value) in env)
            start.Environment[name] = value;
        return Process.Start(start)!;
    }
}
