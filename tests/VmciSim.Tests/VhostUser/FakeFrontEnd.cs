using System.Buffers.Binary;
using Vmci.Sim.VhostUser.Internal;
using Vmci.Sim.VhostUser.Linux;
using Vmci.TestKit;

namespace VmciSim.Tests.VhostUser;

/// <summary>
/// The fake QEMU's vhost-user side, over a socketpair: it sends messages (with file descriptors as SCM_RIGHTS) and
/// reads replies, in the order QEMU 7.2 uses for a vhost-user-vsock-pci device (see <see cref="Start"/>).
/// </summary>
internal sealed class FakeFrontEnd : IDisposable
{
    public const uint Version = 1;

    private readonly FileDescriptor _socket;

    public FakeFrontEnd()
    {
        var pair = NativeIo.SocketPair(out var errno) ?? throw new InvalidOperationException($"socketpair: errno {errno}");
        _socket = pair.First;
        DeviceEnd = pair.Second;
    }

    /// <summary>The end the device serves (it takes ownership).</summary>
    public FileDescriptor DeviceEnd { get; }

    /// <summary>Sends one message: header (request, flags, size), payload, descriptors.</summary>
    public void Send(VhostUserRequest request, ReadOnlySpan<byte> payload, ReadOnlySpan<int> files = default, uint flags = Version)
    {
        var message = new byte[12 + payload.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(message, (uint)request);
        BinaryPrimitives.WriteUInt32LittleEndian(message.AsSpan(4), flags);
        BinaryPrimitives.WriteUInt32LittleEndian(message.AsSpan(8), (uint)payload.Length);
        payload.CopyTo(message.AsSpan(12));
        SendRaw(message, files);
    }

    /// <summary>Sends bytes as they are (malformed messages).</summary>
    public void SendRaw(ReadOnlySpan<byte> bytes, ReadOnlySpan<int> files = default)
    {
        var sent = NativeIo.SendWithDescriptors(_socket, bytes, files);
        Assert.True(sent == bytes.Length, $"sendmsg: {sent}");
    }

    /// <summary>Reads the reply to <paramref name="request"/> and returns its payload.</summary>
    public byte[] Reply(VhostUserRequest request)
    {
        Span<byte> header = stackalloc byte[12];
        ReadExactly(header);
        Assert.Equal((uint)request, BinaryPrimitives.ReadUInt32LittleEndian(header));
        Assert.Equal(Version | 0x4u, BinaryPrimitives.ReadUInt32LittleEndian(header[4..]));
        var payload = new byte[BinaryPrimitives.ReadUInt32LittleEndian(header[8..])];
        ReadExactly(payload);
        return payload;
    }

    /// <summary>True when the device closed its end (reads end of stream).</summary>
    public bool DeviceClosed()
    {
        if (NativeIo.WaitFor(_socket, 1, (int)Watchdog.DefaultTimeout.TotalMilliseconds) <= 0)
            return false;
        Span<byte> one = stackalloc byte[1];
        var files = new List<FileDescriptor>();
        return NativeIo.ReceiveWithDescriptors(_socket, one, files, 0, out _) == 0;
    }

    public ulong GetU64(VhostUserRequest request)
    {
        Send(request, []);
        return BinaryPrimitives.ReadUInt64LittleEndian(Reply(request));
    }

    public void SetU64(VhostUserRequest request, ulong value, params int[] files)
    {
        Span<byte> payload = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(payload, value);
        Send(request, payload, files);
    }

    public void SetState(VhostUserRequest request, uint index, uint value)
    {
        Span<byte> payload = stackalloc byte[8];
        BinaryPrimitives.WriteUInt32LittleEndian(payload, index);
        BinaryPrimitives.WriteUInt32LittleEndian(payload[4..], value);
        Send(request, payload);
    }

    public byte[] GetConfig(uint offset, uint size)
    {
        var payload = new byte[12 + size];
        BinaryPrimitives.WriteUInt32LittleEndian(payload, offset);
        BinaryPrimitives.WriteUInt32LittleEndian(payload.AsSpan(4), size);
        Send(VhostUserRequest.GetConfig, payload);
        return Reply(VhostUserRequest.GetConfig)[12..];
    }

    public void SetMemTable(FakeGuestMemory memory, (ulong Guest, ulong Size, ulong User, ulong Offset)[]? regions = null, int[]? files = null)
    {
        regions ??= memory.Regions;
        var payload = new byte[8 + (32 * regions.Length)];
        BinaryPrimitives.WriteUInt32LittleEndian(payload, (uint)regions.Length);
        for (var i = 0; i < regions.Length; i++)
        {
            var r = payload.AsSpan(8 + (32 * i));
            BinaryPrimitives.WriteUInt64LittleEndian(r, regions[i].Guest);
            BinaryPrimitives.WriteUInt64LittleEndian(r[8..], regions[i].Size);
            BinaryPrimitives.WriteUInt64LittleEndian(r[16..], regions[i].User);
            BinaryPrimitives.WriteUInt64LittleEndian(r[24..], regions[i].Offset);
        }
        files ??= [.. regions.Select(_ => memory.File.Value)];
        Send(VhostUserRequest.SetMemTable, payload, files);
    }

    public void SetVringAddr(uint index, ulong descriptorsUser, ulong usedUser, ulong availableUser, uint flags = 0)
    {
        var payload = new byte[40];
        BinaryPrimitives.WriteUInt32LittleEndian(payload, index);
        BinaryPrimitives.WriteUInt32LittleEndian(payload.AsSpan(4), flags);
        BinaryPrimitives.WriteUInt64LittleEndian(payload.AsSpan(8), descriptorsUser);
        BinaryPrimitives.WriteUInt64LittleEndian(payload.AsSpan(16), usedUser);
        BinaryPrimitives.WriteUInt64LittleEndian(payload.AsSpan(24), availableUser);
        Send(VhostUserRequest.SetVringAddr, payload);
    }

    /// <summary>
    /// QEMU 7.2's conversation with a vhost-user-vsock back-end, up to running rings: features, protocol features,
    /// queue count, owner, call and error eventfds, the config (the guest's CID), memory table, then per ring: size,
    /// base, addresses, kick, enable. Returns the CID from the configuration space.
    /// </summary>
    public ulong Start(FakeGuestMemory memory, FakeQueue rx, FakeQueue tx, bool protocolFeatures = true, bool enable = true)
    {
        var features = GetU64(VhostUserRequest.GetFeatures);
        Assert.Equal((1UL << 32) | (1UL << 30), features);
        ulong cid = 0;
        if (protocolFeatures)
        {
            var protocol = GetU64(VhostUserRequest.GetProtocolFeatures);
            Assert.Equal((1UL << 9) | 1UL, protocol);
            SetU64(VhostUserRequest.SetProtocolFeatures, protocol);
            Assert.Equal(2UL, GetU64(VhostUserRequest.GetQueueNum));
        }
        Send(VhostUserRequest.SetOwner, []);
        foreach (var q in (FakeQueue[])[rx, tx])
        {
            SetU64(VhostUserRequest.SetVringCall, (ulong)q.Index, q.Call.Value);
            using var err = NativeIo.CreateEventFd(out _)!;
            SetU64(VhostUserRequest.SetVringErr, (ulong)q.Index, err.Value);
        }
        if (protocolFeatures)
            cid = BinaryPrimitives.ReadUInt64LittleEndian(GetConfig(0, 8));
        SetU64(VhostUserRequest.SetFeatures, protocolFeatures ? features : features & ~(1UL << 30));
        SetMemTable(memory);
        foreach (var q in (FakeQueue[])[rx, tx])
        {
            SetState(VhostUserRequest.SetVringNum, (uint)q.Index, q.Size);
            SetState(VhostUserRequest.SetVringBase, (uint)q.Index, 0);
            SetVringAddr((uint)q.Index, FakeGuestMemory.User(q.Descriptors), FakeGuestMemory.User(q.Used), FakeGuestMemory.User(q.Available));
            SetU64(VhostUserRequest.SetVringKick, (ulong)q.Index, q.Kick.Value);
            if (protocolFeatures && enable)
                SetState(VhostUserRequest.SetVringEnable, (uint)q.Index, 1);
        }
        return cid;
    }

    /// <summary>QEMU at power-off: GET_VRING_BASE for each ring; returns where each stopped.</summary>
    public (uint Rx, uint Tx) Stop()
    {
        var result = new uint[2];
        for (uint i = 0; i < 2; i++)
        {
            SetState(VhostUserRequest.GetVringBase, i, 0);
            var reply = Reply(VhostUserRequest.GetVringBase);
            Assert.Equal(i, BinaryPrimitives.ReadUInt32LittleEndian(reply));
            result[i] = BinaryPrimitives.ReadUInt32LittleEndian(reply.AsSpan(4));
        }
        return (result[0], result[1]);
    }

    /// <summary>QEMU exits: the device sees the socket close.</summary>
    public void Close() => _socket.Dispose();

    public void Dispose()
    {
        _socket.Dispose();
        DeviceEnd.Dispose();
    }

    private void ReadExactly(Span<byte> buffer)
    {
        var files = new List<FileDescriptor>();
        var done = 0;
        while (done < buffer.Length)
        {
            Assert.True(NativeIo.WaitFor(_socket, 1, (int)Watchdog.DefaultTimeout.TotalMilliseconds) > 0, "no reply from the device within the watchdog");
            var n = NativeIo.ReceiveWithDescriptors(_socket, buffer[done..], files, 0, out _);
            Assert.True(n > 0, $"the device closed the socket or failed ({n}) before replying");
            done += (int)n;
        }
    }
}
