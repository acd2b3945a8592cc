using NetMQ;
using Vmci;
using Vmci.TestKit;
using Vmci.Transport;

namespace Conformance.NetMq;

/// <summary>SPEC §1: the endpoint grammar and its errors, as NetMQ exceptions.</summary>
public abstract partial class NetMqConformance
{
    /// <summary>Malformed vmci endpoints: every one is EINVAL (InvalidException), for bind, connect, unbind and disconnect.</summary>
    public static TheoryData<string> Malformed =>
    [
        "vmci://",
        "vmci://*",
        "vmci://:*",
        "vmci://*:",
        "vmci://x:*",
        "vmci://*:y",
        "vmci://4294967296:*",
        "vmci://*:4294967296",
        "vmci://-2:*",
        "vmci://*:-2",
        "vmci://*:5560x",
        "vmci://*:+5560",
        "vmci:// 1:*",
    ];

    [Theory]
    [MemberData(nameof(Malformed))]
    [Trait("Spec", "§1")]
    public void Bind_MalformedEndpoint_ThrowsInvalid(string endpoint)
    {
        var socket = Socket("PAIR");
        var e = VmciAssert.ThrowsNetMq<InvalidException>(Errno.EINVAL, () => socket.VmciBind(endpoint));
        Assert.Contains(endpoint, e.Message, StringComparison.Ordinal);
        Assert.True(string.IsNullOrEmpty(socket.VmciLastEndpoint()), "a failed bind leaves LAST_ENDPOINT empty");
    }

    [Theory]
    [MemberData(nameof(Malformed))]
    [Trait("Spec", "§1")]
    public void Connect_MalformedEndpoint_ThrowsInvalid(string endpoint)
    {
        var socket = Socket("PAIR");
        var e = VmciAssert.ThrowsNetMq<InvalidException>(Errno.EINVAL, () => socket.VmciConnect(endpoint));
        Assert.Contains(endpoint, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("vmci://*:5560x")]
    [InlineData("vmci://*")]
    [InlineData("vmci://1:")]
    [Trait("Spec", "§1")]
    public void Unbind_MalformedEndpoint_ThrowsInvalid(string endpoint)
    {
        var socket = Socket("PAIR");
        VmciAssert.ThrowsNetMq<InvalidException>(Errno.EINVAL, () => socket.VmciUnbind(endpoint));
    }

    [Theory]
    [InlineData("vmci://*:5560x")]
    [InlineData("vmci://*")]
    [InlineData("vmci://1:")]
    [Trait("Spec", "§1")]
    public void Disconnect_MalformedEndpoint_ThrowsInvalid(string endpoint)
    {
        var socket = Socket("PAIR");
        VmciAssert.ThrowsNetMq<InvalidException>(Errno.EINVAL, () => socket.VmciDisconnect(endpoint));
    }

    /// <summary>Schemes NetMQ does not know, the vmci scheme in the wrong case included (the scheme is case-sensitive).</summary>
    public static TheoryData<string> UnknownSchemes => ["vmcix://*:*", "VMCI://*:*", "vsock://1:5"];

    [Theory]
    [MemberData(nameof(UnknownSchemes))]
    [Trait("Spec", "§1")]
    public void Bind_UnknownScheme_ThrowsProtocolNotSupported(string endpoint)
    {
        var socket = Socket("PAIR");
        Assert.Throws<ProtocolNotSupportedException>(() => socket.VmciBind(endpoint));
    }

    [Theory]
    [MemberData(nameof(UnknownSchemes))]
    [Trait("Spec", "§1")]
    public void Connect_UnknownScheme_ThrowsProtocolNotSupported(string endpoint)
    {
        var socket = Socket("PAIR");
        Assert.Throws<ProtocolNotSupportedException>(() => socket.VmciConnect(endpoint));
    }

    [Theory]
    [InlineData("vmci:*:*")]
    [InlineData("vmci")]
    [InlineData("")]
    [InlineData("://1:5")]
    [Trait("Spec", "§1")]
    public void BindConnect_NoSchemeOrSeparator_ThrowsInvalid(string endpoint)
    {
        var socket = Socket("PAIR");
        VmciAssert.ThrowsNetMq<InvalidException>(Errno.EINVAL, () => socket.VmciBind(endpoint));
        VmciAssert.ThrowsNetMq<InvalidException>(Errno.EINVAL, () => socket.VmciConnect(endpoint));
    }

    [Fact]
    [Trait("Spec", "§1")]
    public void Bind_InvalidEndpoint_CarriesVmciExceptionWithErrno()
    {
        var socket = Socket("PAIR");
        var e = Assert.Throws<InvalidException>(() => socket.VmciBind("vmci://*:99999999999"));
        var inner = Assert.IsType<VmciException>(e.InnerException);
        Assert.Equal(Errno.EINVAL, inner.Errno);
        Assert.Contains("vmci://*:99999999999", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("PAIR")]
    [InlineData("PUB")]
    [InlineData("SUB")]
    [InlineData("XPUB")]
    [InlineData("XSUB")]
    [InlineData("REQ")]
    [InlineData("REP")]
    [InlineData("DEALER")]
    [InlineData("ROUTER")]
    [InlineData("PUSH")]
    [InlineData("PULL")]
    [InlineData("STREAM")]
    [Trait("Spec", "§1")]
    public void Bind_EverySocketType_IsAccepted(string type)
    {
        var socket = Socket(type);
        var bound = BindAny(socket);
        Assert.StartsWith("vmci://*:", bound, StringComparison.Ordinal);
        var client = Socket(type);
        client.VmciConnect(Target(bound));
    }

    [Theory]
    [InlineData("vmci://-1:*")]
    [InlineData("vmci://4294967295:*")]
    [InlineData("vmci://*:-1")]
    [InlineData("vmci://-1:-1")]
    [Trait("Spec", "§1")]
    public void Bind_AnySpellings_ReportStarAndAssignedPort(string endpoint)
    {
        var socket = Socket("PAIR");
        socket.VmciBind(endpoint);
        var last = socket.VmciLastEndpoint()!;
        Assert.Matches("^vmci://\\*:[0-9]+$", last);
        Assert.True(PortOf(last) > 1023, $"ephemeral port expected, got {last}");
    }
}
