using PublicApiGenerator;
using Snapshooter.Xunit3;
using Vmci.Sim;

namespace Vmci.Transport.Tests;

/// <summary>
/// Pins the public API of the libraries: any change to it changes a snapshot in __snapshots__, so it shows in
/// review. After an intended change, delete the snapshot file and run the tests once to write the new one.
/// </summary>
public sealed class PublicApiTests
{
    [Fact]
    public void VmciCore_PublicApi_MatchesSnapshot() => Snapshot.Match(Api(typeof(VmciEndpoint)));

    [Fact]
    public void VmciSim_PublicApi_MatchesSnapshot() => Snapshot.Match(Api(typeof(SimFabric)));

    [Fact]
    public void VmciVsock_PublicApi_MatchesSnapshot() => Snapshot.Match(Api(typeof(Vsock.VsockNetwork)));

    [Fact]
    public void VmciTransport_PublicApi_MatchesSnapshot() => Snapshot.Match(Api(typeof(VmciSocketExtensions)));

    [Fact]
    public void VmciTestKit_PublicApi_MatchesSnapshot() => Snapshot.Match(Api(typeof(TestKit.TestFabric)));

    private static string Api(Type type) =>
        type.Assembly.GeneratePublicApi(new ApiGeneratorOptions { IncludeAssemblyAttributes = false });
}
