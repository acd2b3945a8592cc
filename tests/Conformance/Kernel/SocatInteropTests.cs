using System.Diagnostics;
using Conformance.Support;
using Vmci;
using Vmci.TestKit;
using Vmci.Vsock;

namespace Conformance.Kernel;

/// <summary>
/// Interop with a vsock peer this project did not write: Debian's socat (VSOCK-LISTEN / VSOCK-CONNECT) echoing
/// through <c>cat</c>, against <see cref="VsockNetwork"/> on both sides. Guest only (eng/guest-run.sh).
/// </summary>
[Collection(SpawnsProcesses.Name)]
[Trait("Backend", "vsock")]
public sealed class SocatInteropTests
{
    private readonly VsockNetwork _network = new();

    [Fact(DisplayName = "§5 interop: socat VSOCK-LISTEN echoes what VsockNetwork sends")]
    [Trait("Spec", "§5")]
    public async Task Connect_ToSocatListener_ExchangesBytesBothWays()
    {
        KernelGuest.Require();
        using var watchdog = Watchdog.Start(TestContext.Current.CancellationToken);
        var port = FreePort();
        using var socat = StartSocat(watchdog.Token, $"VSOCK-LISTEN:{port}", "EXEC:cat");
        var client = await ConnectWhenListeningAsync(new VsockAddress(KernelGuest.RequireLoopbackCid(), port), socat, watchdog.Token);
        using (client)
        {
            var payload = VsockStreams.Payload(200_000, 7);
            await client.SendAsync(payload, watchdog.Token);
            client.ShutdownSend();
            Assert.Equal(payload, await client.ReadToEndAsync(watchdog.Token));
        }
        await socat.Process.WaitForExitAsync(watchdog.Token);
        Assert.Equal(0, socat.Process.ExitCode);
    }

    [Fact(DisplayName = "§5 interop: socat VSOCK-CONNECT to the loopback CID reaches a VsockNetwork listener")]
    [Trait("Spec", "§5")]
    public async Task Accept_FromSocatClient_ExchangesBytesBothWays()
    {
        var loopback = KernelGuest.RequireLoopbackCid();
        using var watchdog = Watchdog.Start(TestContext.Current.CancellationToken);
        using var listener = _network.Listen(new VsockAddress(VmciCid.Any, VmciPort.Any));
        using var socat = StartSocat(watchdog.Token, $"VSOCK-CONNECT:{loopback}:{listener.LocalAddress.Port}", "EXEC:cat");
        using (var server = await listener.AcceptAsync(watchdog.Token))
        {
            Assert.Equal(loopback, server.RemoteAddress.Cid);
            var payload = VsockStreams.Payload(200_000, 8);
            await server.SendAsync(payload, watchdog.Token);
            server.ShutdownSend();
            Assert.Equal(payload, await server.ReadToEndAsync(watchdog.Token));
        }
        await socat.Process.WaitForExitAsync(watchdog.Token);
        Assert.Equal(0, socat.Process.ExitCode);
    }

    private uint FreePort()
    {
        using var probe = _network.Listen(new VsockAddress(VmciCid.Any, VmciPort.Any));
        return probe.LocalAddress.Port;
    }

    private async Task<IVsockConnection> ConnectWhenListeningAsync(VsockAddress remote, Socat socat, CancellationToken ct)
    {
        // socat starts listening a moment after it starts: until then the kernel answers ECONNRESET. Poll with the watchdog as deadline.
        while (true)
        {
            try
            {
                return await _network.ConnectAsync(remote, null, ct);
            }
            catch (VmciException e) when (e.Errno == Errno.ECONNRESET && !socat.Process.HasExited)
            {
                await Task.Delay(20, ct);
            }
        }
    }

    private static Socat StartSocat(CancellationToken ct, params string[] addresses)
    {
        var socat = new[] { "/usr/bin/socat", "/bin/socat" }.FirstOrDefault(File.Exists);
        if (socat is null)
            Assert.Skip("socat is not installed (apt-get install socat)");
        // Its output is redirected too: an inherited stdout is the test runner's own output.
        var info = new ProcessStartInfo(socat) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("-t5");
        foreach (var address in addresses)
            info.ArgumentList.Add(address);
        return new Socat(Process.Start(info)!, ct);
    }

    /// <summary>
    /// A socat child that never outlives its test: killed when the watchdog expires and when the test ends. A test that
    /// failed before socat's peer came (a connect that timed out) used to leave VSOCK-LISTEN waiting forever — and with it
    /// the guest runner's output pipe, so the test process's end was never seen.
    /// </summary>
    private sealed class Socat : IDisposable
    {
        private readonly CancellationTokenRegistration _onExpiry;

        public Socat(Process process, CancellationToken ct)
        {
            Process = process;
            _onExpiry = ct.Register(Kill);
        }

        public Process Process { get; }

        public void Dispose()
        {
            _onExpiry.Dispose();
            Kill();
            Process.Dispose();
        }

        private void Kill()
        {
            try
            {
                if (!Process.HasExited)
                    Process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // Ended meanwhile.
            }
        }
    }
}
