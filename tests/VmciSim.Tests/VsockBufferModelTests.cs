using Vmci;
using Vmci.Sim.Internal;
using Vmci.TestKit;

namespace VmciSim.Tests;

/// <summary>SPEC §4: the kernel's option semantics.</summary>
public sealed class VsockBufferModelTests
{
    [Fact]
    public void Defaults_AreTheKernels()
    {
        var model = new VsockBufferModel();

        Assert.Equal(256u * 1024, model.Get(VsockOption.BufferSize));
        Assert.Equal(128u, model.Get(VsockOption.BufferMinSize));
        Assert.Equal(256u * 1024, model.Get(VsockOption.BufferMaxSize));
        Assert.Equal(2000u, model.Get(VsockOption.ConnectTimeout));
    }

    [Theory]
    [InlineData(1024ul * 1024, 256ul * 1024)]
    [InlineData(64ul, 128ul)]
    [InlineData(4096ul, 4096ul)]
    public void SetSize_IsClampedIntoMinMax(ulong requested, ulong expected)
    {
        var model = new VsockBufferModel();

        model.Set(VsockOption.BufferSize, requested);

        Assert.Equal(expected, model.Get(VsockOption.BufferSize));
    }

    [Fact]
    public void SetMinAboveSize_RaisesSize()
    {
        var model = new VsockBufferModel();
        model.Set(VsockOption.BufferMaxSize, 1 << 20);
        model.Set(VsockOption.BufferMinSize, 512 * 1024);

        Assert.Equal(512u * 1024, model.Get(VsockOption.BufferSize));
    }

    [Fact]
    public void SetMinAboveMax_SizeEndsAtMax_AsDebian61Does()
    {
        var model = new VsockBufferModel();
        model.Set(VsockOption.BufferMinSize, 1 << 20);

        Assert.Equal(256u * 1024, model.Get(VsockOption.BufferSize));
    }

    [Fact]
    public void OptionsInApplyOrder_MaxMinSizeThenTimeout()
    {
        var options = new VsockOptions { BufferSize = 1 << 20, BufferMinSize = 4096, BufferMaxSize = 2 << 20, ConnectTimeout = TimeSpan.FromMilliseconds(1500) };
        var model = new VsockBufferModel();
        foreach (var (option, value) in options.InApplyOrder())
            model.Set(option, value);

        Assert.Equal([VsockOption.BufferMaxSize, VsockOption.BufferMinSize, VsockOption.BufferSize, VsockOption.ConnectTimeout], options.InApplyOrder().Select(o => o.Option));
        Assert.Equal(1u << 20, model.Get(VsockOption.BufferSize));
        Assert.Equal(1500u, model.Get(VsockOption.ConnectTimeout));
    }

    [Fact]
    public void SetConnectTimeoutZero_MeansTheDefault()
    {
        var model = new VsockBufferModel();

        model.Set(VsockOption.ConnectTimeout, 0);

        Assert.Equal(2000u, model.Get(VsockOption.ConnectTimeout));
    }

    [Fact]
    public void SetConnectTimeoutHuge_ThrowsErange()
    {
        VmciAssert.Throws(Errno.ERANGE, () => new VsockBufferModel().Set(VsockOption.ConnectTimeout, ulong.MaxValue));
    }

    [Fact]
    public void UnknownOption_ThrowsEnoprotoopt()
    {
        var model = new VsockBufferModel();

        VmciAssert.Throws(Errno.ENOPROTOOPT, () => model.Get((VsockOption)5));
        VmciAssert.Throws(Errno.ENOPROTOOPT, () => model.Set((VsockOption)5, 1));
    }
}
