using NetMQ;
using Vmci;
using Vmci.TestKit;
using Vmci.Transport;

namespace Conformance.NetMq;

/// <summary>SPEC §4: ZMQ_VMCI_* options: validated, readable back, applied to the real vsock connection.</summary>
public abstract partial class NetMqConformance
{
    [Fact]
    [Trait("Spec", "§4")]
    public void Options_NotSet_ReadBackKernelDefaults()
    {
        var options = Socket("PAIR").VmciOptions();
        Assert.Equal(256UL * 1024, options.BufferSize);
        Assert.Equal(128UL, options.BufferMinSize);
        Assert.Equal(256UL * 1024, options.BufferMaxSize);
        Assert.Equal(TimeSpan.FromSeconds(2), options.ConnectTimeout);
    }

    [Theory]
    [InlineData(VmciSocketOption.BufferSize, 65536)]
    [InlineData(VmciSocketOption.BufferMinSize, 4096)]
    [InlineData(VmciSocketOption.BufferMaxSize, 1048576)]
    [InlineData(VmciSocketOption.ConnectTimeout, 1500)]
    [Trait("Spec", "§4")]
    public void Options_SetById_ReadsBackEachOnItsOwn(VmciSocketOption option, long value)
    {
        var options = Socket("PAIR").VmciOptions();
        var before = Enum.GetValues<VmciSocketOption>().ToDictionary(o => o, o => options[o]);
        options[option] = value;
        Assert.Equal(value, options[option]);
        foreach (var other in before.Keys.Where(o => o != option))
            Assert.Equal(before[other], options[other]);
    }

    [Fact]
    [Trait("Spec", "§4")]
    public void Options_IdsAreLibzmqs()
    {
        Assert.Equal(85, (int)VmciSocketOption.BufferSize);
        Assert.Equal(86, (int)VmciSocketOption.BufferMinSize);
        Assert.Equal(87, (int)VmciSocketOption.BufferMaxSize);
        Assert.Equal(88, (int)VmciSocketOption.ConnectTimeout);
        var options = Socket("PAIR").VmciOptions();
        options.BufferMaxSize = 1 << 20;
        Assert.Equal(1L << 20, options[VmciSocketOption.BufferMaxSize]);
    }

    [Theory]
    [InlineData(VmciSocketOption.BufferSize, -1)]
    [InlineData(VmciSocketOption.BufferMinSize, -5)]
    [InlineData(VmciSocketOption.BufferMaxSize, long.MinValue)]
    [InlineData(VmciSocketOption.ConnectTimeout, -2)]
    [InlineData(VmciSocketOption.ConnectTimeout, long.MaxValue)]
    [InlineData((VmciSocketOption)84, 1)]
    [InlineData((VmciSocketOption)89, 1)]
    [Trait("Spec", "§4")]
    public void Options_InvalidValue_ThrowsInvalidAndKeepsOldValue(VmciSocketOption option, long value)
    {
        var options = Socket("PAIR").VmciOptions();
        var e = VmciAssert.ThrowsNetMq<InvalidException>(Errno.EINVAL, () => options[option] = value);
        Assert.Contains(((int)option).ToString(System.Globalization.CultureInfo.InvariantCulture), e.Message, StringComparison.Ordinal);
        if (Enum.IsDefined(option))
            Assert.NotEqual(value, options[option]);
    }

    [Fact]
    [Trait("Spec", "§4")]
    public void Options_UnknownIdRead_ThrowsInvalid()
    {
        var options = Socket("PAIR").VmciOptions();
        VmciAssert.ThrowsNetMq<InvalidException>(Errno.EINVAL, () => _ = options[(VmciSocketOption)90]);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(0)]
    [Trait("Spec", "§4")]
    public void Options_ConnectTimeoutMinusOneOrZero_ReadsKernelDefault(long value)
    {
        var options = Socket("PAIR").VmciOptions();
        options[VmciSocketOption.ConnectTimeout] = 1500;
        options[VmciSocketOption.ConnectTimeout] = value;
        Assert.Equal(2000, options[VmciSocketOption.ConnectTimeout]);
    }

    [Fact]
    [Trait("Spec", "§4")]
    public void Options_NegativeConnectTimeoutProperty_ReadsKernelDefault()
    {
        var options = Socket("PAIR").VmciOptions();
        options.ConnectTimeout = TimeSpan.FromMilliseconds(-1);
        Assert.Equal(TimeSpan.FromSeconds(2), options.ConnectTimeout);
    }

    [Fact]
    [Trait("Spec", "§4")]
    public void Options_OnConnect_AppliedToTheVsockConnection()
    {
        var server = Socket("PAIR");
        var client = Socket("PAIR");
        var options = client.VmciOptions();
        options.BufferSize = 512 * 1024; // set before the max it needs: the apply order is max, min, size
        options.BufferMaxSize = 1 << 20;
        options.BufferMinSize = 4096;
        options.ConnectTimeout = TimeSpan.FromMilliseconds(1500); // ≥ 1000 ms: libzmq's {0 s, 1500000 µs} gave ERANGE
        Link(server, client);
        Bounce.Check(server, client);
        var connection = Assert.Single(Network.Connected);
        Assert.Equal(512UL * 1024, connection.GetOption(VsockOption.BufferSize));
        Assert.Equal(4096UL, connection.GetOption(VsockOption.BufferMinSize));
        Assert.Equal(1UL << 20, connection.GetOption(VsockOption.BufferMaxSize));
        Assert.Equal(1500UL, connection.GetOption(VsockOption.ConnectTimeout));
    }

    [Fact]
    [Trait("Spec", "§4")]
    public void Options_OnBind_AppliedToAcceptedConnections()
    {
        var server = Socket("PAIR");
        var client = Socket("PAIR");
        var options = server.VmciOptions();
        options.BufferMaxSize = 1 << 20;
        options.BufferSize = 768 * 1024;
        Link(server, client);
        Bounce.Check(server, client);
        var accepted = Assert.Single(Network.Accepted);
        Assert.Equal(768UL * 1024, accepted.GetOption(VsockOption.BufferSize));
        Assert.Equal(1UL << 20, accepted.GetOption(VsockOption.BufferMaxSize));
    }

    [Fact]
    [Trait("Spec", "§4")]
    public void Options_NotSet_ConnectionKeepsKernelDefaults()
    {
        var server = Socket("PAIR");
        var client = Socket("PAIR");
        Link(server, client);
        Bounce.Check(server, client);
        var connection = Assert.Single(Network.Connected);
        Assert.Equal(VsockOptions.DefaultBufferSize, connection.GetOption(VsockOption.BufferSize));
        Assert.Equal(VsockOptions.DefaultBufferMaxSize, connection.GetOption(VsockOption.BufferMaxSize));
        Assert.Equal(2000UL, connection.GetOption(VsockOption.ConnectTimeout));
    }

    [Fact]
    [Trait("Spec", "§4")]
    public void Options_ChangedAfterConnect_ApplyToTheNextConnectOnly()
    {
        var server = Socket("PULL");
        var client = Socket("PUSH");
        client.VmciOptions().BufferSize = 64 * 1024;
        Link(server, client);
        Bounce.Check(server, client);
        client.VmciOptions().BufferSize = 128 * 1024;
        var second = BindAny(server);
        client.VmciConnect(Target(second));
        WaitUntil(() => Network.Connected.Count == 2, "the second connection was made");
        Assert.Equal(64UL * 1024, Network.Connected[0].GetOption(VsockOption.BufferSize));
        Assert.Equal(128UL * 1024, Network.Connected[1].GetOption(VsockOption.BufferSize));
    }
}
