using Vmci.TestKit;
using Vmci.TestKit.Testcontainers;

namespace Integration.Scenarios;

/// <summary>The module's checks, made before Testcontainers or an engine is asked anything: they run everywhere.</summary>
public sealed class SimulatedVmBuilderTests
{
    [Fact]
    public void Build_WithoutFabric_ThrowsNamingWithFabric()
    {
        var e = Assert.Throws<ArgumentException>(() => new SimulatedVmBuilder("img:dev").WithCid(3).Build());

        Assert.Contains("WithFabric", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_WithoutCid_ThrowsNamingWithCid()
    {
        using var fabric = new TestFabric();

        var e = Assert.Throws<ArgumentException>(() => new SimulatedVmBuilder("img:dev").WithFabric(fabric).Build());

        Assert.Contains("WithCid", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(1u)]
    [InlineData(uint.MaxValue)]
    public void Build_ReservedCid_Throws(uint cid)
    {
        using var fabric = new TestFabric();

        var e = Assert.Throws<ArgumentException>(() => new SimulatedVmBuilder("img:dev").WithFabric(fabric).WithCid(cid).Build());

        Assert.Contains("reserved", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_RelativeFabric_Throws()
    {
        var e = Assert.Throws<ArgumentException>(() => new SimulatedVmBuilder("img:dev").WithFabric("relative/dir").WithCid(3).Build());

        Assert.Contains("absolute", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void With_ReturnsANewBuilder_LeavingTheOriginalUnchanged()
    {
        var original = new SimulatedVmBuilder("img:dev");

        var changed = original.WithCid(3).WithCommand("serve").WaitForLogLine("^ready");

        Assert.Null(original.Cid);
        Assert.Empty(original.Command);
        Assert.Equal(3u, changed.Cid);
        Assert.Equal(["serve"], changed.Command);
        Assert.Equal("^ready", changed.ReadyLogPattern);
    }

    [Fact]
    public void DockerApi_WhenSet_KeepsTheGivenVersion()
    {
        // Set by Program.Main (pinned or the environment's): a second call never changes it.
        var before = Environment.GetEnvironmentVariable(DockerApi.VersionVariable);

        var version = DockerApi.EnsureCompatibleVersion();

        Assert.Equal(before ?? DockerApi.CompatibleVersion, version);
        Assert.Equal(version, Environment.GetEnvironmentVariable(DockerApi.VersionVariable));
    }
}
