namespace Vmci.TestKit;

/// <summary>
/// A base for test classes whose every test gets a fabric and a watchdog of its own — dotnet/runtime's
/// <c>FileCleanupTestBase</c>, for fabrics. It relies on one instance per test, as xUnit.net and MSTest create
/// (NUnit: <c>[FixtureLifeCycle(LifeCycle.InstancePerTestCase)]</c>).
/// </summary>
/// <example>
/// <code>
/// public sealed class PingTests() : FabricTestBase(TestContext.Current.CancellationToken)
/// {
///     [Fact]
///     public async Task Ping_GuestToHost_Answers()
///     {
///         using var listener = Fabric.Host.Listen(new VsockAddress(VmciCid.Any, VmciPort.Any));
///         using var pair = await VsockStreams.ConnectPairAsync(Fabric.Machine(3), listener, new VsockAddress(VmciCid.Host, listener.LocalAddress.Port), Watchdog.Token);
///     }
/// }
/// </code>
/// </example>
public abstract class FabricTestBase : IDisposable
{
    /// <summary>Gives the test an empty fabric and a watchdog of <see cref="Watchdog.DefaultTimeout"/>.</summary>
    /// <param name="cancellationToken">The test framework's token for the test.</param>
    protected FabricTestBase(CancellationToken cancellationToken)
        : this(new TestFabric(), Watchdog.Start(cancellationToken))
    {
    }

    /// <summary>Gives the test this fabric and this watchdog; both are disposed with the test.</summary>
    /// <param name="fabric">The fabric (see <see cref="FabricBuilder"/>).</param>
    /// <param name="watchdog">The watchdog.</param>
    protected FabricTestBase(TestFabric fabric, Watchdog watchdog)
    {
        ArgumentNullException.ThrowIfNull(fabric);
        ArgumentNullException.ThrowIfNull(watchdog);
        Fabric = fabric;
        Watchdog = watchdog;
    }

    /// <summary>The test's fabric.</summary>
    protected TestFabric Fabric { get; }

    /// <summary>The test's watchdog.</summary>
    protected Watchdog Watchdog { get; }

    /// <summary>Disposes the watchdog and deletes the fabric.</summary>
    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases what the test holds; an override releases its own things first, then calls this.</summary>
    /// <param name="disposing">True when called from <see cref="Dispose()"/>.</param>
    protected virtual void Dispose(bool disposing)
    {
        if (!disposing)
            return;
        Watchdog.Dispose();
        Fabric.Dispose();
    }
}
