using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Vmci.Sim.VhostUser.Linux;

namespace Vmci.Sim.VhostUser.Internal;

/// <summary>The vhost-user requests (QEMU docs/interop/vhost-user.rst, "Front-end message types").</summary>
internal enum VhostUserRequest : uint
{
    GetFeatures = 1,
    SetFeatures = 2,
    SetOwner = 3,
    ResetOwner = 4,
    SetMemTable = 5,
    SetLogBase = 6,
    SetLogFd = 7,
    SetVringNum = 8,
    SetVringAddr = 9,
    SetVringBase = 10,
    GetVringBase = 11,
    SetVringKick = 12,
    SetVringCall = 13,
    SetVringErr = 14,
    GetProtocolFeatures = 15,
    SetProtocolFeatures = 16,
    GetQueueNum = 17,
    SetVringEnable = 18,
    GetConfig = 24,
    SetConfig = 25,
}

/// <summary>One message from the front-end: the request, its flags, its payload and the descriptors it carried.</summary>
internal sealed class VhostUserMessage(VhostUserRequest request, uint flags, byte[] payload, List<FileDescriptor> files) : IDisposable
{
    public VhostUserRequest Request { get; } = request;

    public uint Flags { get; } = flags;

    public byte[] Payload { get; } = payload;

    /// <summary>Descriptors not yet taken; disposed with the message.</summary>
    public List<FileDescriptor> Files { get; } = files;

    /// <summary>The payload as a u64 (the common "u64" message body).</summary>
    public ulong U64 => BinaryPrimitives.ReadUInt64LittleEndian(Payload);

    /// <summary>Takes ownership of the first descriptor (null when there is none).</summary>
    public FileDescriptor? TakeFile()
    {
        if (Files.Count == 0)
            return null;
        var file = Files[0];
        Files.RemoveAt(0);
        return file;
    }

    public void Dispose()
    {
        foreach (var file in Files)
            file.Dispose();
        Files.Clear();
    }
}

/// <summary>
/// The vhost-user socket of one front-end: messages are a 12-byte header (request, flags, payload size), the payload,
/// and descriptors as SCM_RIGHTS. Reads happen on the device thread once poll(2) reports the socket readable; a
/// message that does not arrive whole within <see cref="PartialMessageTimeoutMilliseconds"/> is a broken front-end.
/// </summary>
internal sealed class VhostUserChannel(SafeHandle socket, string name)
{
    /// <summary>The version bits of the flags (VHOST_USER_VERSION = 1).</summary>
    public const uint VersionMask = 0x3;

    /// <summary>The protocol version.</summary>
    public const uint Version = 0x1;

    /// <summary>Set on replies.</summary>
    public const uint ReplyFlag = 0x4;

    /// <summary>The front-end asks for a reply (only with VHOST_USER_PROTOCOL_F_REPLY_ACK, which this device does not offer).</summary>
    public const uint NeedReplyFlag = 0x8;

    /// <summary>The largest payload accepted (the largest real one, SET_MEM_TABLE with 8 regions, is 264 bytes).</summary>
    public const int MaxPayload = 4096;

    private const int HeaderSize = 12;
    private const int PartialMessageTimeoutMilliseconds = 2000;

    /// <summary>The socket path or another name, for messages.</summary>
    public string Name { get; } = name;

    /// <summary>
    /// Reads the next message into <paramref name="message"/> (null when none is there yet); false when the front-end
    /// closed the socket between messages.
    /// </summary>
    public bool TryReceive(out VhostUserMessage? message)
    {
        message = null;
        var files = new List<FileDescriptor>();
        try
        {
            Span<byte> header = stackalloc byte[HeaderSize];
            var start = ReadExactly(header, files, atMessageStart: true);
            if (start != ReadResult.Done)
                return start == ReadResult.Empty;
            var request = BinaryPrimitives.ReadUInt32LittleEndian(header);
            var flags = BinaryPrimitives.ReadUInt32LittleEndian(header[4..]);
            var size = BinaryPrimitives.ReadUInt32LittleEndian(header[8..]);
            if ((flags & VersionMask) != Version)
                throw DeviceErrors.FrontEnd(Name, $"message {request} has protocol version {flags & VersionMask}; only version {Version} is spoken");
            if (size > MaxPayload)
                throw DeviceErrors.FrontEnd(Name, $"message {request} announces {size} payload bytes, more than the {MaxPayload} any message needs");
            var payload = new byte[size];
            ReadExactly(payload, files, atMessageStart: false);
            message = new VhostUserMessage((VhostUserRequest)request, flags, payload, files);
            files = [];
            return true;
        }
        finally
        {
            foreach (var file in files)
                file.Dispose();
        }
    }

    /// <summary>Sends the reply to <paramref name="request"/> with <paramref name="payload"/>.</summary>
    public void Reply(VhostUserRequest request, ReadOnlySpan<byte> payload)
    {
        Span<byte> message = stackalloc byte[HeaderSize + payload.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(message, (uint)request);
        BinaryPrimitives.WriteUInt32LittleEndian(message[4..], Version | ReplyFlag);
        BinaryPrimitives.WriteUInt32LittleEndian(message[8..], (uint)payload.Length);
        payload.CopyTo(message[HeaderSize..]);
        var errno = NativeIo.SendAll(socket, message, PartialMessageTimeoutMilliseconds);
        if (errno != 0)
            throw DeviceErrors.FrontEndSystem(errno, Name, $"cannot send the reply to message {(uint)request}");
    }

    private enum ReadResult
    {
        Done,
        Closed,
        Empty,
    }

    /// <summary>Fills <paramref name="buffer"/>; at a message start, Closed or Empty when the peer closed or sent nothing yet.</summary>
    private ReadResult ReadExactly(Span<byte> buffer, List<FileDescriptor> files, bool atMessageStart)
    {
        var done = 0;
        while (done < buffer.Length)
        {
            var n = NativeIo.ReceiveWithDescriptors(socket, buffer[done..], files, Interop.MSG_DONTWAIT, out var truncated);
            if (truncated)
                throw DeviceErrors.FrontEnd(Name, $"a message carried more than {NativeIo.MaxDescriptorsPerMessage} file descriptors");
            if (files.Count > NativeIo.MaxDescriptorsPerMessage)
                throw DeviceErrors.FrontEnd(Name, $"a message carried {files.Count} file descriptors, more than {NativeIo.MaxDescriptorsPerMessage}");
            if (n > 0)
            {
                done += (int)n;
                continue;
            }
            if (n == 0)
            {
                if (atMessageStart && done == 0)
                    return ReadResult.Closed;
                throw DeviceErrors.FrontEnd(Name, $"the front-end closed the socket in the middle of a message ({done} of {buffer.Length} bytes)");
            }
            if (-n != Interop.EAGAIN)
                throw DeviceErrors.FrontEndSystem((int)-n, Name, "cannot read a message");
            if (atMessageStart && done == 0)
                return ReadResult.Empty; // spurious wake-up: nothing there yet; the caller polls again
            var ready = NativeIo.WaitFor(socket, Interop.POLLIN, PartialMessageTimeoutMilliseconds);
            if (ready < 0)
                throw DeviceErrors.FrontEndSystem(-ready, Name, "cannot wait for the rest of a message");
            if (ready == 0)
                throw DeviceErrors.FrontEnd(Name, $"a message stopped after {done} of {buffer.Length} bytes for {PartialMessageTimeoutMilliseconds} ms");
        }
        return ReadResult.Done;
    }
}
