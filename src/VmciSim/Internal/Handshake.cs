using System.Globalization;
using System.Text;

namespace Vmci.Sim.Internal;

/// <summary>
/// The simulator's wire protocol, version 1, spoken once at the start of every Unix domain socket connection.
/// The connector sends one ASCII line, <c>VMCI1 &lt;src cid&gt; &lt;src port&gt; &lt;dst cid&gt; &lt;dst port&gt;\n</c>
/// (decimal, single spaces, at most <see cref="MaxRequestBytes"/> bytes) and sends nothing more until it has the
/// answer: exactly <see cref="ReplyBytes"/> bytes, <c>OK 000\n</c> (accepted: from the next byte on, the socket
/// carries the stream) or <c>ER &lt;errno, 3 digits&gt;\n</c> (refused with that Linux errno, then closed).
/// The fixed reply length lets the connector read it without ever reading stream bytes that follow.
/// </summary>
internal static class Handshake
{
    public const string Magic = "VMCI1";
    public const int MaxRequestBytes = 64;
    public const int ReplyBytes = 7;

    public readonly record struct Request(VsockAddress Source, VsockAddress Destination);

    public static byte[] FormatRequest(VsockAddress source, VsockAddress destination) =>
        Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture,
            $"{Magic} {source.Cid} {source.Port} {destination.Cid} {destination.Port}\n"));

    /// <summary>Parses a request (the bytes up to and including the newline); the errno to refuse with otherwise.</summary>
    public static Errno? TryParseRequest(ReadOnlySpan<byte> line, out Request request)
    {
        request = default;
        if (line.IsEmpty || line[^1] != (byte)'\n')
            return Errno.EINVAL;
        Span<uint> values = stackalloc uint[4];
        var rest = line[..^1];
        var space = rest.IndexOf((byte)' ');
        if (space < 0)
            return Errno.EINVAL;
        if (!rest[..space].SequenceEqual("VMCI1"u8))
            return rest[..space].StartsWith("VMCI"u8) ? Errno.EPROTONOSUPPORT : Errno.EINVAL;
        rest = rest[(space + 1)..];
        for (var i = 0; i < 4; i++)
        {
            var end = rest.IndexOf((byte)' ');
            var field = i < 3 ? (end < 0 ? [] : rest[..end]) : rest;
            if (i == 3 && end >= 0)
                return Errno.EINVAL;
            if (!TryParseDecimal(field, out values[i]))
                return Errno.EINVAL;
            rest = i < 3 ? rest[(end + 1)..] : [];
        }
        request = new Request(new VsockAddress(values[0], values[1]), new VsockAddress(values[2], values[3]));
        return null;
    }

    public static byte[] FormatReply(Errno? refusal) =>
        Encoding.ASCII.GetBytes(refusal is { } e ? string.Create(CultureInfo.InvariantCulture, $"ER {(int)e:000}\n") : "OK 000\n");

    /// <summary>Parses a reply: null for accepted, the errno for refused; EPROTO-like garbage is EIO.</summary>
    public static Errno? ParseReply(ReadOnlySpan<byte> reply)
    {
        if (reply.SequenceEqual("OK 000\n"u8))
            return null;
        if (reply.Length == ReplyBytes && reply.StartsWith("ER "u8) && reply[^1] == (byte)'\n'
            && TryParseErrno(reply[3..6], out var errno) && Enum.IsDefined((Errno)errno))
            return (Errno)errno;
        return Errno.EIO;
    }

    /// <summary>A canonical decimal uint: digits only, no leading zero, at most 4294967295.</summary>
    private static bool TryParseDecimal(ReadOnlySpan<byte> digits, out uint value)
    {
        value = 0;
        if (digits.IsEmpty || digits.Length > 10 || (digits.Length > 1 && digits[0] == (byte)'0'))
            return false;
        ulong acc = 0;
        foreach (var b in digits)
        {
            if (b is < (byte)'0' or > (byte)'9')
                return false;
            acc = (acc * 10) + (uint)(b - '0');
        }
        if (acc > uint.MaxValue)
            return false;
        value = (uint)acc;
        return true;
    }

    private static bool TryParseErrno(ReadOnlySpan<byte> digits, out uint value)
    {
        value = 0;
        foreach (var b in digits)
        {
            if (b is < (byte)'0' or > (byte)'9')
                return false;
            value = (value * 10) + (uint)(b - '0');
        }
        return true;
    }
}
