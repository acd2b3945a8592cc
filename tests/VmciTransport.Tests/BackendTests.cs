using Vmci.Sim;
using Vmci.TestKit;

namespace Vmci.Transport.Tests;

/// <summary>Backend selection by VMCI_BACKEND. The variable is process-wide, so these run one at a time.</summary>
[Collection(nameof(BackendTests))]
[CollectionDefinition(nameof(BackendTests), DisableParallelization = true)]
public sealed class BackendTests
{
    [Fact]
    public void FromEnvironment_Unset_IsTheSimulator()
    {
        var fabric = Directory.CreateTempSubdirectory("vmci-tt-env-").FullName;
        try
        {
            WithEnvironment(null, fabric, () => Assert.IsType<SimNetwork>(VmciNetwork.FromEnvironment()));
            WithEnvironment("sim", fabric, () => Assert.Equal("sim", VmciNetwork.FromEnvironment().Name));
        }
        finally
        {
            Directory.Delete(fabric, recursive: true);
        }
    }

    [Fact]
    public void FromEnvironment_InvalidValue_NamesTheVariableAndTheAllowedValues()
    {
        WithEnvironment("kvm", null, () =>
        {
            var e = VmciAssert.Throws(Errno.EINVAL, () => VmciNetwork.FromEnvironment());
            Assert.Contains("VMCI_BACKEND=kvm", e.Message, StringComparison.Ordinal);
            Assert.Contains("'sim'", e.Message, StringComparison.Ordinal);
            Assert.Contains("'vsock'", e.Message, StringComparison.Ordinal);
        });
    }

    [Fact]
    public void Simulator_JoinsTheGivenCid()
    {
        var fabric = Directory.CreateTempSubdirectory("vmci-tt-sim-").FullName;
        try
        {
            Assert.Equal(5u, VmciNetwork.Simulator(fabric, 5).GetLocalCid());
        }
        finally
        {
            Directory.Delete(fabric, recursive: true);
        }
    }

    private static void WithEnvironment(string? backend, string? fabric, Action action)
    {
        var oldBackend = Environment.GetEnvironmentVariable(VmciSettings.BackendVariable);
        var oldFabric = Environment.GetEnvironmentVariable("VMCI_SIM_FABRIC");
        Environment.SetEnvironmentVariable(VmciSettings.BackendVariable, backend);
        Environment.SetEnvironmentVariable("VMCI_SIM_FABRIC", fabric ?? oldFabric);
        try
        {
            action();
        }
        finally
        {
            Environment.SetEnvironmentVariable(VmciSettings.BackendVariable, oldBackend);
            Environment.SetEnvironmentVariable("VMCI_SIM_FABRIC", oldFabric);
        }
    }
}
