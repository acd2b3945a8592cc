using Vmci;
using Vmci.TestKit;

namespace VmciCore.Tests;

/// <summary>SPEC §1: every row and every error of the vmci:// grammar.</summary>
public sealed class VmciEndpointTests
{
    [Theory]
    [InlineData("vmci://*:*", VmciCid.Any, VmciPort.Any, "vmci://*:*")]
    [InlineData("vmci://-1:-1", VmciCid.Any, VmciPort.Any, "vmci://*:*")]
    [InlineData("vmci://*:5555", VmciCid.Any, 5555u, "vmci://*:5555")]
    [InlineData("vmci://-1:5555", VmciCid.Any, 5555u, "vmci://*:5555")]
    [InlineData("vmci://2:5555", 2u, 5555u, "vmci://2:5555")]
    [InlineData("vmci://0:0", 0u, 0u, "vmci://0:0")]
    [InlineData("vmci://4294967295:1", VmciCid.Any, 1u, "vmci://*:1")]
    [InlineData("vmci://3:4294967295", 3u, VmciPort.Any, "vmci://3:*")]
    [InlineData("vmci://4294967294:4294967294", 4294967294u, 4294967294u, "vmci://4294967294:4294967294")]
    [InlineData("vmci://0002:05564", 2u, 5564u, "vmci://2:5564")]
    public void Parse_ValidNumericOrWildcard_GivesCanonicalForm(string input, uint cid, uint port, string canonical)
    {
        var endpoint = VmciEndpoint.Parse(input);

        Assert.False(endpoint.IsLocalCid);
        Assert.Equal(cid, endpoint.Cid);
        Assert.Equal(port, endpoint.Port);
        Assert.Equal(canonical, endpoint.ToString());
    }

    [Fact]
    public void Parse_AtCid_IsLocalAndResolvesThroughTheLookup()
    {
        var endpoint = VmciEndpoint.Parse("vmci://@:5556");

        Assert.True(endpoint.IsLocalCid);
        Assert.Equal("vmci://@:5556", endpoint.ToString());
        Assert.Equal(new VsockAddress(7, 5556), endpoint.Resolve(() => 7));
        Assert.Equal("vmci://7:5556", endpoint.Resolve(() => 7).ToString());
    }

    [Fact]
    public void Resolve_NumericCid_NeverCallsTheLookup()
    {
        var endpoint = VmciEndpoint.Parse("vmci://3:1");

        Assert.Equal(new VsockAddress(3, 1), endpoint.Resolve(() => throw new InvalidOperationException("not called")));
    }

    [Fact]
    public void Resolve_AtCidWithoutLocalCid_PropagatesEnodev()
    {
        var endpoint = VmciEndpoint.Parse("vmci://@:1");

        VmciAssert.Throws(Errno.ENODEV, () => endpoint.Resolve(() => throw VmciError.Create(Errno.ENODEV, VmciOperation.Bind, "vmci://@:1", "no local CID")));
    }

    [Theory]
    [InlineData("vmci", "'://' is missing")]
    [InlineData("vmci:/2:5", "'://' is missing")]
    [InlineData("://2:5", "transport (before '://') is empty")]
    [InlineData("vmci://", "address after 'vmci://' is empty")]
    [InlineData("vmci://25555", "has no ':'")]
    [InlineData("vmci://:5555", "cid (before the last ':') is empty")]
    [InlineData("vmci://2:", "port (after the last ':') is empty")]
    [InlineData("vmci://x:5555", "cid 'x' is not")]
    [InlineData("vmci://2:x", "port 'x' is not")]
    [InlineData("vmci://4294967296:1", "cid '4294967296' is not")]
    [InlineData("vmci://1:4294967296", "port '4294967296' is not")]
    [InlineData("vmci://99999999999999999999999:1", "cid '99999999999999999999999' is not")]
    [InlineData("vmci://-2:1", "cid '-2' is not")]
    [InlineData("vmci://1:-2", "port '-2' is not")]
    [InlineData("vmci://1:2:3", "cid '1:2' is not")]
    [InlineData("vmci://2:5560x", "port '5560x' is not")]
    [InlineData("vmci://2x:5560", "cid '2x' is not")]
    [InlineData("vmci://+2:5560", "cid '+2' is not")]
    [InlineData("vmci://2:+5560", "port '+5560' is not")]
    [InlineData("vmci:// 2:5560", "cid ' 2' is not")]
    [InlineData("vmci://2: 5560", "port ' 5560' is not")]
    [InlineData("vmci://2:5560 ", "port '5560 ' is not")]
    [InlineData("vmci://@@:1", "cid '@@' is not")]
    [InlineData("vmci://2:@", "port '@' is not")]
    [InlineData("vmci://**:1", "cid '**' is not")]
    [InlineData("vmci://٣:1", "cid '٣' is not")]
    public void Parse_Malformed_ThrowsEinvalNamingInputAndRule(string input, string rule)
    {
        var ex = VmciAssert.Throws(Errno.EINVAL, () => VmciEndpoint.Parse(input));

        Assert.Equal(VmciOperation.Parse, ex.Operation);
        Assert.Equal(input, ex.Endpoint);
        Assert.Contains(rule, ex.Message, StringComparison.Ordinal);
        Assert.Contains($"'{input}'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("EINVAL", ex.Message, StringComparison.Ordinal);
        Assert.False(VmciEndpoint.TryParse(input, out _));
    }

    [Theory]
    [InlineData("VMCI://2:5555")]
    [InlineData("Vmci://2:5555")]
    [InlineData("tcp://127.0.0.1:5555")]
    [InlineData("vsock://2:5555")]
    public void Parse_OtherScheme_ThrowsEprotonosupport(string input)
    {
        var ex = VmciAssert.Throws(Errno.EPROTONOSUPPORT, () => VmciEndpoint.Parse(input));

        Assert.Contains("is not 'vmci'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_Null_ThrowsArgumentNull()
    {
        Assert.Throws<ArgumentNullException>(() => VmciEndpoint.Parse(null!));
        Assert.False(VmciEndpoint.TryParse(null, out _));
    }

    [Theory]
    [InlineData("vmci://2:1", true)]
    [InlineData("vmci://", true)]
    [InlineData("VMCI://2:1", false)]
    [InlineData("tcp://*:1", false)]
    [InlineData(null, false)]
    public void HasVmciScheme_ChecksTheSchemeOnly(string? input, bool expected) =>
        Assert.Equal(expected, VmciEndpoint.HasVmciScheme(input));

    [Fact]
    public void Factories_FormatLikeParse()
    {
        Assert.Equal(VmciEndpoint.Parse("vmci://*:*"), VmciEndpoint.For(VmciCid.Any, VmciPort.Any));
        Assert.Equal(VmciEndpoint.Parse("vmci://@:9"), VmciEndpoint.ForLocalCid(9));
        Assert.Equal("vmci://2:30", new VsockAddress(VmciCid.Host, 30).ToString());
    }
}
