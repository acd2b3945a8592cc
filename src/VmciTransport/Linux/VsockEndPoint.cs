using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Vmci.Transport.Linux;

/// <summary>
/// A <c>struct sockaddr_vm</c> as a .NET <see cref="EndPoint"/>, so that <see cref="Socket"/> can bind, connect and
/// accept AF_VSOCK: 16 bytes in host byte order — family u16 @0, reserved u16 @2, port u32 @4, cid u32 @8,
/// flags u8 @12, zeros @13..15. Its <see cref="AddressFamily"/> is <see cref="AddressFamily.Unknown"/> (.NET has no AF_VSOCK).
/// </summary>
internal sealed class VsockEndPoint : EndPoint
{
    /// <summary>sizeof(struct sockaddr_vm).</summary>
    internal const int Size = 16;

    /// <summary>VMADDR_FLAG_TO_HOST: route to the host even from a nested guest.</summary>
    internal const byte VMADDR_FLAG_TO_HOST = 1;

    public VsockEndPoint(VsockAddress address, byte flags = 0)
    {
        Address = address;
        Flags = flags;
    }

    /// <summary>The CID and port.</summary>
    public VsockAddress Address { get; }

    /// <summary>svm_flags.</summary>
    public byte Flags { get; }

    /// <inheritdoc />
    public override AddressFamily AddressFamily => AddressFamily.Unknown;

    /// <inheritdoc />
    public override SocketAddress Serialize()
    {
        var sa = new SocketAddress(AddressFamily.Unknown, Size);
        Span<byte> bytes = stackalloc byte[Size];
        Write(bytes);
        for (var i = 0; i < Size; i++)
            sa[i] = bytes[i];
        return sa;
    }

    /// <inheritdoc />
    public override EndPoint Create(SocketAddress socketAddress)
    {
        ArgumentNullException.ThrowIfNull(socketAddress);
        Span<byte> bytes = stackalloc byte[Size];
        bytes.Clear();
        for (var i = 0; i < Math.Min(Size, socketAddress.Size); i++)
            bytes[i] = socketAddress[i];
        return Read(bytes);
    }

    /// <summary>Writes the 16-byte sockaddr_vm.</summary>
    internal void Write(Span<byte> bytes)
    {
        bytes[..Size].Clear();
        BinaryPrimitives.WriteUInt16LittleEndian(bytes, Interop.AF_VSOCK);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes[4..], Address.Port);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes[8..], Address.Cid);
        bytes[12] = Flags;
    }

    /// <summary>Reads a sockaddr_vm (host byte order; x86_64 and arm64 are little-endian).</summary>
    internal static VsockEndPoint Read(ReadOnlySpan<byte> bytes) =>
        new(new VsockAddress(BinaryPrimitives.ReadUInt32LittleEndian(bytes[8..]), BinaryPrimitives.ReadUInt32LittleEndian(bytes[4..])), bytes[12]);

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is VsockEndPoint other && other.Address == Address && other.Flags == Flags;

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Address, Flags);

    /// <inheritdoc />
    public override string ToString() => Address.ToString();
}
