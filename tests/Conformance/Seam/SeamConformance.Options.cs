using Vmci;
using Vmci.TestKit;

namespace Conformance.Seam;

public abstract partial class SeamConformance
{
    [Fact(DisplayName = "§4 options: kernel defaults read back")]
    [Trait("Spec", "§4")]
    public async Task GetOption_Defaults_AreKernelDefaults()
    {
        using var watchdog = Watchdog.Start(TestContext.Current.CancellationToken);
        var (client, server) = await ConnectPairAsync(ListenAny(), watchdog.Token);
        foreach (var connection in new[] { client, server })
        {
            Assert.Equal(VsockOptions.DefaultBufferSize, connection.GetOption(VsockOption.BufferSize));
            Assert.Equal(VsockOptions.DefaultBufferMinSize, connection.GetOption(VsockOption.BufferMinSize));
            Assert.Equal(VsockOptions.DefaultBufferMaxSize, connection.GetOption(VsockOption.BufferMaxSize));
            Assert.Equal(2000UL, connection.GetOption(VsockOption.ConnectTimeout));
        }
    }

    [Fact(DisplayName = "§4 options: size is clamped into [min, max]")]
    [Trait("Spec", "§4")]
    public async Task SetOption_BufferSize_IsClampedIntoMinMax()
    {
        using var watchdog = Watchdog.Start(TestContext.Current.CancellationToken);
        var (client, _) = await ConnectPairAsync(ListenAny(), watchdog.Token);
        client.SetOption(VsockOption.BufferSize, 1UL << 30);
        Assert.Equal(VsockOptions.DefaultBufferMaxSize, client.GetOption(VsockOption.BufferSize));
        client.SetOption(VsockOption.BufferSize, 16);
        Assert.Equal(VsockOptions.DefaultBufferMinSize, client.GetOption(VsockOption.BufferSize));
        client.SetOption(VsockOption.BufferMaxSize, 1 << 20);
        client.SetOption(VsockOption.BufferSize, 512 * 1024);
        Assert.Equal(512UL * 1024, client.GetOption(VsockOption.BufferSize));
        client.SetOption(VsockOption.BufferSize, 64 * 1024);
        client.SetOption(VsockOption.BufferMinSize, 100 * 1024);
        Assert.Equal(100UL * 1024, client.GetOption(VsockOption.BufferMinSize));
        Assert.Equal(100UL * 1024, client.GetOption(VsockOption.BufferSize));
        client.SetOption(VsockOption.BufferMaxSize, 200 * 1024);
        Assert.Equal(200UL * 1024, client.GetOption(VsockOption.BufferMaxSize));
        Assert.Equal(100UL * 1024, client.GetOption(VsockOption.BufferSize));
        // min > max is left out on purpose: which bound wins changed in Linux stable (2025, min then max); see docs/kernel-backend.md.
    }

    [Theory(DisplayName = "§4 options: connect timeout round trip in ms (multiples of 4 ms: HZ)")]
    [Trait("Spec", "§4")]
    [InlineData(4UL)]
    [InlineData(1000UL)]
    [InlineData(1500UL)]
    [InlineData(60_000UL)]
    public async Task SetOption_ConnectTimeout_ReadsBack(ulong milliseconds)
    {
        using var watchdog = Watchdog.Start(TestContext.Current.CancellationToken);
        var (client, _) = await ConnectPairAsync(ListenAny(), watchdog.Token);
        client.SetOption(VsockOption.ConnectTimeout, milliseconds);
        Assert.Equal(milliseconds, client.GetOption(VsockOption.ConnectTimeout));
    }

    [Fact(DisplayName = "§4 options: connect timeout 0 means the 2 s default")]
    [Trait("Spec", "§4")]
    public async Task SetOption_ConnectTimeoutZero_MeansDefault()
    {
        using var watchdog = Watchdog.Start(TestContext.Current.CancellationToken);
        var (client, _) = await ConnectPairAsync(ListenAny(), watchdog.Token);
        client.SetOption(VsockOption.ConnectTimeout, 0);
        Assert.Equal(2000UL, client.GetOption(VsockOption.ConnectTimeout));
    }

    [Fact(DisplayName = "§4 options: an unknown option → ENOPROTOOPT")]
    [Trait("Spec", "§4")]
    public async Task Option_Unknown_ThrowsENOPROTOOPT()
    {
        using var watchdog = Watchdog.Start(TestContext.Current.CancellationToken);
        var (client, _) = await ConnectPairAsync(ListenAny(), watchdog.Token);
        VmciAssert.Throws(Errno.ENOPROTOOPT, () => client.GetOption((VsockOption)99));
        VmciAssert.Throws(Errno.ENOPROTOOPT, () => client.SetOption((VsockOption)99, 1));
    }

    [Fact(DisplayName = "§4 options given to connect are in effect on the connection")]
    [Trait("Spec", "§4")]
    public async Task Connect_WithOptions_AppliesThem()
    {
        using var watchdog = Watchdog.Start(TestContext.Current.CancellationToken);
        var options = new VsockOptions { BufferMaxSize = 1 << 20, BufferSize = 512 * 1024, ConnectTimeout = TimeSpan.FromMilliseconds(1500) };
        var (client, _) = await ConnectPairAsync(ListenAny(), watchdog.Token, options);
        Assert.Equal(1UL << 20, client.GetOption(VsockOption.BufferMaxSize));
        Assert.Equal(512UL * 1024, client.GetOption(VsockOption.BufferSize));
        Assert.Equal(1500UL, client.GetOption(VsockOption.ConnectTimeout));
    }

    [Fact(DisplayName = "§4 accepted connections inherit the listener's options")]
    [Trait("Spec", "§4")]
    public async Task Accept_ListenerOptions_AreInherited()
    {
        using var watchdog = Watchdog.Start(TestContext.Current.CancellationToken);
        var options = new VsockOptions { BufferMaxSize = 1 << 20, BufferMinSize = 4096, BufferSize = 768 * 1024 };
        var (_, server) = await ConnectPairAsync(ListenAny(options), watchdog.Token);
        Assert.Equal(1UL << 20, server.GetOption(VsockOption.BufferMaxSize));
        Assert.Equal(4096UL, server.GetOption(VsockOption.BufferMinSize));
        Assert.Equal(768UL * 1024, server.GetOption(VsockOption.BufferSize));
    }
}
