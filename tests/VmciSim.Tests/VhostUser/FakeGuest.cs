using System.Collections.Concurrent;
using System.Runtime.Versioning;
using Vmci;
using Vmci.Sim.VhostUser;
using Vmci.Sim.VhostUser.Internal;
using Vmci.TestKit;

namespace VmciSim.Tests.VhostUser;

/// <summary>
/// A guest in-process: fake guest RAM, the two queues, the fake QEMU front-end, and a minimal virtio-vsock driver that
/// posts RX buffers the way Linux 6.1 does (a 44-byte header buffer chained to a 4 KiB data buffer), sends packets on
/// TX and reads what the device puts on RX. Runs a real <see cref="VhostUserDevice"/> at <see cref="Cid"/> on a fabric.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class FakeGuest : IAsyncDisposable
{
    public const uint DefaultBufferAllocation = 256 * 1024;
    private const int TxSlots = 64;

    private readonly Queue<ulong> _txSlots = new();
    private readonly Dictionary<ushort, ulong> _txInFlight = [];
    private readonly Dictionary<ushort, (ulong Header, ulong Data, uint DataSize)> _rxBuffers = [];

    private FakeGuest(TestFabric fabric, uint cid, VhostUserDevice device, ConcurrentQueue<string> log)
    {
        Fabric = fabric;
        Cid = cid;
        Device = device;
        Log = log;
        Rx = new FakeQueue(Memory, 0);
        Tx = new FakeQueue(Memory, 1);
        for (var i = 0; i < TxSlots; i++)
            _txSlots.Enqueue(Memory.AllocateBuffer(VsockHeader.Size + VsockHeader.MaxPayload));
    }

    public TestFabric Fabric { get; }

    public uint Cid { get; }

    public VhostUserDevice Device { get; }

    public FakeGuestMemory Memory { get; } = new();

    public FakeQueue Rx { get; }

    public FakeQueue Tx { get; }

    public FakeFrontEnd FrontEnd { get; } = new();

    /// <summary>Bounds every wait of this guest (the device's run is cancelled when it expires).</summary>
    public Watchdog Watchdog { get; } = Watchdog.Start(TestContext.Current.CancellationToken);

    /// <summary>RunAsync's task: completes when the session ends, faults with a device error.</summary>
    public Task Run { get; private set; } = Task.CompletedTask;

    /// <summary>The device's log lines.</summary>
    public ConcurrentQueue<string> Log { get; }

    /// <summary>
    /// Starts a device for CID <paramref name="cid"/> on <paramref name="fabric"/>, serving this fake; with
    /// <paramref name="start"/> it also runs QEMU's negotiation and posts <paramref name="rxBuffers"/> RX buffers.
    /// </summary>
    public static FakeGuest Create(TestFabric fabric, uint cid = 3, Action<VhostUserDeviceOptions>? configure = null, bool start = true, int rxBuffers = 32)
    {
        var log = new ConcurrentQueue<string>();
        var options = new VhostUserDeviceOptions
        {
            Fabric = fabric.Directory,
            Cid = cid,
            SocketPath = Path.Combine(fabric.Directory, $"vhost-{cid}.sock"),
            Log = log.Enqueue,
        };
        configure?.Invoke(options);
        var guest = new FakeGuest(fabric, cid, new VhostUserDevice(options), log);
        guest.Run = guest.Device.RunAsync(guest.FrontEnd.DeviceEnd, guest.Watchdog.Token);
        if (start)
        {
            Assert.Equal(cid, guest.FrontEnd.Start(guest.Memory, guest.Rx, guest.Tx));
            guest.PostRx(rxBuffers);
        }
        return guest;
    }

    /// <summary>Posts <paramref name="count"/> RX buffers: header buffer + <paramref name="dataSize"/> data buffer, as Linux 6.1.</summary>
    public void PostRx(int count, uint dataSize = 4096)
    {
        for (var i = 0; i < count; i++)
        {
            var header = Memory.AllocateBuffer(VsockHeader.Size);
            var data = Memory.AllocateBuffer(dataSize);
            var head = Rx.AddChain((header, VsockHeader.Size, true), (data, dataSize, true));
            _rxBuffers[head] = (header, data, dataSize);
        }
        Rx.Notify();
    }

    /// <summary>Sends one packet on TX: header and payload in one buffer (or header and payload in two when <paramref name="split"/>).</summary>
    public void Send(VsockHeader header, ReadOnlySpan<byte> payload = default, bool split = false)
    {
        var slot = TakeTxSlot();
        header.Write(Memory.At(slot, VsockHeader.Size));
        payload.CopyTo(Memory.At(slot + VsockHeader.Size, payload.Length));
        var head = split
            ? Tx.AddChain((slot, VsockHeader.Size, false), (slot + VsockHeader.Size, (uint)payload.Length, false))
            : Tx.AddChain((slot, (uint)(VsockHeader.Size + payload.Length), false));
        _txInFlight[head] = slot;
        Tx.Notify();
    }

    /// <summary>A packet from this guest: source (CID, <paramref name="sourcePort"/>), type stream, the guest's credit figures.</summary>
    public VsockHeader Packet(VsockOp op, uint sourcePort, VsockAddress destination, uint flags = 0, uint length = 0,
        uint bufferAllocation = DefaultBufferAllocation, uint forwardCount = 0) => new()
        {
            SourceCid = Cid,
            SourcePort = sourcePort,
            DestinationCid = destination.Cid,
            DestinationPort = destination.Port,
            Type = VsockHeader.TypeStream,
            Op = op,
            Flags = flags,
            Length = length,
            BufferAllocation = bufferAllocation,
            ForwardCount = forwardCount,
        };

    /// <summary>Sends a packet built by <see cref="Packet"/>; RW carries <paramref name="payload"/>.</summary>
    public void Send(VsockOp op, uint sourcePort, VsockAddress destination, ReadOnlySpan<byte> payload = default, uint flags = 0,
        uint bufferAllocation = DefaultBufferAllocation, uint forwardCount = 0) =>
        Send(Packet(op, sourcePort, destination, flags, (uint)payload.Length, bufferAllocation, forwardCount), payload);

    /// <summary>The next packet the device put on RX (its buffer is posted again).</summary>
    public async Task<(VsockHeader Header, byte[] Payload)> ReceiveAsync()
    {
        ushort head;
        uint written;
        while (!Rx.TryTakeUsed(out head, out written))
            await Rx.WaitUsedAsync(Watchdog.Token);
        var (header, data, size) = _rxBuffers[head];
        _rxBuffers.Remove(head);
        Assert.True(written >= VsockHeader.Size, $"the device wrote {written} bytes, less than a header");
        var h = VsockHeader.Read(Memory.At(header, VsockHeader.Size));
        Assert.Equal(written - VsockHeader.Size, h.Length);
        var payload = Memory.At(data, (int)h.Length).ToArray();
        var again = Rx.AddChain((header, VsockHeader.Size, true), (data, size, true));
        _rxBuffers[again] = (header, data, size);
        Rx.Notify();
        return (h, payload);
    }

    /// <summary>The next packet, which must be <paramref name="op"/>.</summary>
    public async Task<(VsockHeader Header, byte[] Payload)> ExpectAsync(VsockOp op)
    {
        var packet = await ReceiveAsync();
        Assert.True(packet.Header.Op == op, $"expected {op}, got {packet.Header}; device log:\n{string.Join('\n', Log)}");
        return packet;
    }

    /// <summary>Waits for the device to stop with an error and returns it.</summary>
    public async Task<VmciException> FailureAsync()
    {
        var e = await Assert.ThrowsAsync<VmciException>(() => Watchdog.Guard(Run));
        return e;
    }

    public async ValueTask DisposeAsync()
    {
        FrontEnd.Close();
        try
        {
            await Run.WaitAsync(Watchdog.DefaultTimeout);
        }
        catch (VmciException)
        {
            // Asserted by the test that caused it.
        }
        await Device.DisposeAsync().AsTask().WaitAsync(Watchdog.DefaultTimeout);
        Watchdog.Dispose();
        FrontEnd.Dispose();
        Rx.Dispose();
        Tx.Dispose();
        Memory.Dispose();
    }

    /// <summary>A TX buffer the device is done with (waiting on the TX call eventfd when all are in flight).</summary>
    private ulong TakeTxSlot()
    {
        while (true)
        {
            while (Tx.TryTakeUsed(out var head, out _))
            {
                if (_txInFlight.Remove(head, out var used))
                    _txSlots.Enqueue(used);
            }
            if (_txSlots.Count > 0 && Tx.FreeDescriptors >= 2)
                return _txSlots.Dequeue();
            Tx.WaitUsedAsync(Watchdog.Token).GetAwaiter().GetResult();
        }
    }
}

/// <summary>
/// A fake guest connected to a listener of the host (CID 2), where most connection tests start: the end the host
/// accepted, the host's address as the guest reaches it, and the device's RESPONSE. Disposing it closes the host's
/// end and listener, then the guest.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class GuestToHost : IAsyncDisposable
{
    private GuestToHost(FakeGuest guest, IVsockListener listener, IVsockConnection server, VsockHeader response)
    {
        Guest = guest;
        Listener = listener;
        Server = server;
        Response = response;
    }

    public FakeGuest Guest { get; }

    /// <summary>The host's listener; it keeps listening (see <see cref="ConnectAgainAsync"/>).</summary>
    public IVsockListener Listener { get; }

    /// <summary>The listener's address, as the guest connects to it.</summary>
    public VsockAddress Host => new(VmciCid.Host, Listener.LocalAddress.Port);

    /// <summary>The end the host accepted.</summary>
    public IVsockConnection Server { get; }

    /// <summary>The device's RESPONSE to the guest's REQUEST.</summary>
    public VsockHeader Response { get; }

    /// <summary>
    /// Starts a guest on <paramref name="fabric"/> (<see cref="FakeGuest.Create"/>, with <paramref name="configure"/>)
    /// and connects it from <paramref name="guestPort"/> to a new listener of the host.
    /// </summary>
    public static async Task<GuestToHost> ConnectAsync(TestFabric fabric, uint guestPort = 40000, Action<VhostUserDeviceOptions>? configure = null)
    {
        var guest = FakeGuest.Create(fabric, configure: configure);
        IVsockListener? listener = null;
        try
        {
            listener = fabric.Machine(VmciCid.Host).Listen(new VsockAddress(VmciCid.Any, VmciPort.Any));
            var (server, response) = await AcceptAsync(guest, listener, guestPort);
            return new GuestToHost(guest, listener, server, response);
        }
        catch
        {
            listener?.Dispose();
            await guest.DisposeAsync();
            throw;
        }
    }

    /// <summary>Connects the guest again, from <paramref name="guestPort"/> to the same listener; returns the end the host accepted (the caller disposes it).</summary>
    public async Task<IVsockConnection> ConnectAgainAsync(uint guestPort) => (await AcceptAsync(Guest, Listener, guestPort)).Server;

    public void Deconstruct(out FakeGuest guest, out IVsockConnection server, out VsockAddress host) => (guest, server, host) = (Guest, Server, Host);

    public async ValueTask DisposeAsync()
    {
        Server.Dispose();
        Listener.Dispose();
        await Guest.DisposeAsync();
    }

    private static async Task<(IVsockConnection Server, VsockHeader Response)> AcceptAsync(FakeGuest guest, IVsockListener listener, uint guestPort)
    {
        var accept = listener.AcceptAsync(guest.Watchdog.Token).AsTask();
        var response = await guest.ConnectAsync(guestPort, new VsockAddress(VmciCid.Host, listener.LocalAddress.Port));
        return (await accept.WaitAsync(guest.Watchdog.Token), response);
    }
}
