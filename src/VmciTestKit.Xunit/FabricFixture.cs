using Vmci.Sim;
using Xunit;

namespace Vmci.TestKit.Xunit;

/// <summary>
/// An xUnit.net fixture that owns one simulated fabric (<see cref="TestFabric"/>) for as long as xUnit keeps the
/// fixture: a test class (<c>IClassFixture&lt;FabricFixture&gt;</c>), a collection, or the whole assembly
/// (<c>[assembly: AssemblyFixture(typeof(FabricFixture))]</c>). Deleted with everything in it when xUnit disposes it.
/// </summary>
/// <remarks>
/// Tests sharing one fixture share its machines: give each test its own ports (bind <c>vmci://*:*</c> and read the
/// endpoint back), and never leave a fault in force at the end of a test. For settings, derive a class whose
/// parameterless constructor passes a builder:
/// <code>
/// public sealed class TwoVms() : FabricFixture(new FabricBuilder().WithTopology(SimTopology.Vmware).WithMachines(3, 4));
/// </code>
/// </remarks>
/// <example>
/// <code>
/// public sealed class GreeterTests(FabricFixture fixture) : IClassFixture&lt;FabricFixture&gt;
/// {
///     [Fact]
///     public async Task Guest_ConnectsToHost()
///     {
///         using var watchdog = FabricFixture.StartWatchdog();
///         using var listener = fixture.Host.Listen(new VsockAddress(VmciCid.Any, VmciPort.Any));
///         using var connection = await fixture.Machine(3).ConnectAsync(new VsockAddress(VmciCid.Host, listener.LocalAddress.Port), null, watchdog.Token);
///     }
/// }
/// </code>
/// </example>
public class FabricFixture : IDisposable
{
    /// <summary>An empty fabric with the defaults of <see cref="FabricBuilder"/> (open topology, machines joined on first use).</summary>
    public FabricFixture()
        : this(new FabricBuilder())
    {
    }

    /// <summary>A fabric built by <paramref name="builder"/>: for a derived fixture with its own topology, machines or faults.</summary>
    /// <param name="builder">The builder.</param>
    /// <exception cref="VmciException">What <see cref="FabricBuilder.Build"/> throws.</exception>
    protected FabricFixture(FabricBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        Fabric = builder.Build();
    }

    /// <summary>The fabric: its directory (<c>VMCI_SIM_FABRIC</c> for peer processes and containers), faults, entries.</summary>
    public TestFabric Fabric { get; }

    /// <summary>The host, CID 2.</summary>
    public SimNetwork Host => Fabric.Host;

    /// <summary>The simulated machine with context ID <paramref name="cid"/>, joined on first use.</summary>
    /// <param name="cid">Any CID except 0, 1 and 0xFFFFFFFF.</param>
    /// <returns>The machine's network; assign it to <c>socket.VmciOptions().Network</c> to give a NetMQ socket that CID.</returns>
    /// <exception cref="VmciException">EINVAL for a reserved CID.</exception>
    public SimNetwork Machine(uint cid) => Fabric.Machine(cid);

    /// <summary>
    /// A watchdog for the current test: cancelled after <paramref name="timeout"/> or when xUnit cancels the test
    /// (<see cref="TestContext.CancellationToken"/>); pass its <see cref="Watchdog.Token"/> to every wait.
    /// </summary>
    /// <param name="timeout">How long the test may take.</param>
    /// <returns>The watchdog; dispose it at the end of the test.</returns>
    /// <remarks><paramref name="timeout"/> defaults to <see cref="Watchdog.DefaultTimeout"/>.</remarks>
    public static Watchdog StartWatchdog(TimeSpan? timeout = null) =>
        Watchdog.Start(timeout ?? Watchdog.DefaultTimeout, TestContext.Current.CancellationToken);

    /// <summary>Deletes the fabric.</summary>
    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases what the fixture holds; an override releases its own things first, then calls this.</summary>
    /// <param name="disposing">True when called from <see cref="Dispose()"/>.</param>
    protected virtual void Dispose(bool disposing)
    {
        if (disposing)
            Fabric.Dispose();
    }
}
