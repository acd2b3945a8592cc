using System.Buffers.Binary;
using System.Net.Sockets;
using System.Runtime.Versioning;
using Vmci;
using Vmci.Sim.VhostUser;
using Vmci.TestKit;

namespace VmciSim.Tests.VhostUser;

/// <summary>The public surface: options checked once, the socket QEMU connects to, the end of a session, nothing leaked.</summary>
[SupportedOSPlatform("linux")]
[Collection(nameof(LeakCollection))]
public sealed class DeviceLifecycleTests() : FabricTestBase(TestContext.Current.CancellationToken)
{
    private CancellationToken Ct => Watchdog.Token;

    public static TheoryData<uint, string, int, uint, string> BadOptions => new()
    {
        { 2, "x.sock", 256, 262144, "CID 2 cannot be a guest's" },
        { 1, "x.sock", 256, 262144, "CID 1 cannot be a guest's" },
        { 3, "", 256, 262144, "no vhost-user socket path" },
        { 3, new string('s', 120), 256, 262144, "longer than sun_path holds" },
        { 3, "x.sock", 0, 262144, "MaxConnections 0 is not from 1 to 65536" },
        { 3, "x.sock", 256, 100, "BufferSize 100 is not from 4096 to 16777216" },
    };

    [Theory]
    [MemberData(nameof(BadOptions))]
    public void Options_OutOfRange_ThrowEinval(uint cid, string socket, int maxConnections, uint bufferSize, string rule)
    {
        var options = new VhostUserDeviceOptions
        {
            Fabric = Fabric.Directory,
            Cid = cid,
            SocketPath = socket.Length == 0 ? "" : Path.Combine(Fabric.Directory, socket),
            MaxConnections = maxConnections,
            BufferSize = bufferSize,
        };

        var e = VmciAssert.Throws(Errno.EINVAL, () => _ = new VhostUserDevice(options));

        Assert.Contains(rule, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_ListensAtOnce_ServesOneFrontEnd_EndsWhenItCloses()
    {
        var options = FakeGuestStarter.Options(Fabric, 3);
        await using var device = new VhostUserDevice(options);

        var run = device.RunAsync(Ct);
        Assert.True(File.Exists(device.SocketPath));
        using (var qemu = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            await qemu.ConnectAsync(new UnixDomainSocketEndPoint(device.SocketPath), Ct).AsTask().WaitAsync(Ct);
            var request = new byte[12];
            BinaryPrimitives.WriteUInt32LittleEndian(request, 1); // VHOST_USER_GET_FEATURES
            BinaryPrimitives.WriteUInt32LittleEndian(request.AsSpan(4), 1);
            await qemu.SendAsync(request, SocketFlags.None, Ct).AsTask().WaitAsync(Ct);
            var reply = new byte[20];
            var read = 0;
            while (read < reply.Length)
                read += await qemu.ReceiveAsync(reply.AsMemory(read), SocketFlags.None, Ct).AsTask().WaitAsync(Ct);
            Assert.Equal((1UL << 32) | (1UL << 30), BinaryPrimitives.ReadUInt64LittleEndian(reply.AsSpan(12)));
            Assert.False(File.Exists(device.SocketPath)); // one front-end per device: nobody else can connect
        }
        await run.WaitAsync(Ct);
        Assert.False(File.Exists(device.Gateway!.Path));
    }

    [Fact]
    public async Task RunAsync_LiveSocketAtThePath_ThrowsEaddrinuse_AndReleasesTheCid()
    {
        var options = FakeGuestStarter.Options(Fabric, 3);
        using var squatter = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        squatter.Bind(new UnixDomainSocketEndPoint(options.SocketPath));
        squatter.Listen(1);
        await using var device = new VhostUserDevice(options);

        var e = VmciAssert.Throws(Errno.EADDRINUSE, () => device.RunAsync(Ct));

        Assert.Contains("a live socket holds the path", e.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(Fabric.Directory, "3", "gateway")));
    }

    [Fact]
    public async Task RunAsync_StaleSocketFile_IsReplaced()
    {
        var options = FakeGuestStarter.Options(Fabric, 3);
        using (var old = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            old.Bind(new UnixDomainSocketEndPoint(options.SocketPath + ".tmp"));
            File.Move(options.SocketPath + ".tmp", options.SocketPath);
        }
        await using var device = new VhostUserDevice(options);

        using var stop = new CancellationTokenSource();
        var run = device.RunAsync(stop.Token);
        await stop.CancelAsync().WaitAsync(Ct);

        await run.WaitAsync(Ct);
    }

    [Fact]
    public async Task ManySessions_LeaveNoFilesFdsOrThreads()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "/proc/self/fd is Linux's");
        await CycleAsync(); // warm-up: the runtime opens its own descriptors once
        var fds = DeviceFds();
        var entries = Fabric.Entries();

        for (var i = 0; i < 5; i++)
            await CycleAsync();

        Assert.Equal(entries, Fabric.Entries());
        // Sockets of finished handshakes close asynchronously (no event to await): poll with the watchdog.
        Watchdog.Until(() => DeviceFds().Length <= fds.Length, "the device's descriptors are back to their number before the sessions",
            TimeSpan.FromSeconds(10));
        Assert.True(DeviceFds().Length <= fds.Length, $"{fds.Length} before, now: {string.Join(", ", DeviceFds().Except(fds))}");
    }

    /// <summary>The kinds of descriptor the device and its fake QEMU create: sockets, eventfds, memfds (the runtime's own files aside).</summary>
    private static string[] DeviceFds() =>
        [.. new DirectoryInfo("/proc/self/fd").EnumerateFileSystemInfos().Select(f => $"{f.Name}→{f.LinkTarget}")
            .Where(t => t.Contains("socket:", StringComparison.Ordinal) || t.Contains("eventfd", StringComparison.Ordinal) || t.Contains("memfd:", StringComparison.Ordinal))];

    private async Task CycleAsync()
    {
        var guest = FakeGuest.Create(Fabric);
        await using (guest)
        {
            using var listener = Fabric.Machine(2).Listen(new VsockAddress(VmciCid.Any, VmciPort.Any));
            var host = new VsockAddress(2, listener.LocalAddress.Port);
            for (var i = 0; i < 4; i++)
            {
                var accept = listener.AcceptAsync(Ct).AsTask();
                await guest.ConnectAsync((uint)(40000 + i), host);
                using (var server = await accept.WaitAsync(Ct))
                {
                    guest.Write((uint)(40000 + i), host, "data"u8);
                    await server.ReadExactlyAsync(4, Ct);
                }
                await guest.ExpectAsync(Vmci.Sim.VhostUser.Internal.VsockOp.Shutdown);
                if (i % 2 == 0)
                {
                    guest.Send(Vmci.Sim.VhostUser.Internal.VsockOp.Reset, (uint)(40000 + i), host);
                }
                else
                {
                    guest.Send(Vmci.Sim.VhostUser.Internal.VsockOp.Shutdown, (uint)(40000 + i), host, flags: 3);
                    await guest.ExpectAsync(Vmci.Sim.VhostUser.Internal.VsockOp.Reset);
                }
            }
            var connect = Fabric.Machine(2).ConnectAsync(new VsockAddress(3, 5000), null, Ct).AsTask();
            var (request, _) = await guest.ExpectAsync(Vmci.Sim.VhostUser.Internal.VsockOp.Request);
            guest.Send(Vmci.Sim.VhostUser.Internal.VsockOp.Response, 5000, new VsockAddress(2, request.SourcePort));
            using (await connect.WaitAsync(Ct))
            {
            }
            // A broken queue at the end: the device stops and must release everything all the same.
            guest.Tx.Publish(999);
            guest.Tx.Notify();
            await guest.FailureAsync();
            Assert.True(guest.Device.Core!.Thread.Join(Watchdog.Remaining));
            Assert.True(guest.Device.Gateway!.AcceptThread.Join(Watchdog.Remaining));
        }
    }

}
