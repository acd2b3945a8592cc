using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Vmci.Cli.Forward;

/// <summary>The kinds of address <c>vmci forward</c> joins.</summary>
internal enum ForwardKind
{
    /// <summary><c>tcp:IP:PORT</c>.</summary>
    Tcp,

    /// <summary><c>unix:PATH</c>, a Unix domain stream socket.</summary>
    Unix,

    /// <summary><c>vmci://CID:PORT</c> on the chosen backend.</summary>
    Vmci,
}

/// <summary>One side of a forward, parsed and checked: <c>tcp:127.0.0.1:8080</c>, <c>unix:/run/app.sock</c>, <c>vmci://3:5555</c>.</summary>
internal sealed record ForwardAddress(ForwardKind Kind, string Text, EndPoint? SocketEndPoint)
{
    /// <summary>sun_path holds 108 bytes, the last a NUL.</summary>
    public const int MaxUnixPathBytes = 107;

    /// <summary>The forms, for usage lines.</summary>
    public const string Forms = "tcp:IP:PORT, unix:PATH or vmci://CID:PORT";

    /// <summary>Parses <paramref name="text"/>; to listen on (<paramref name="listening"/>) or to connect to.</summary>
    /// <returns>Null and the rule broken in <paramref name="error"/> when it is not one of the three forms.</returns>
    public static ForwardAddress? TryParse(string text, bool listening, out string error)
    {
        error = "";
        if (text.StartsWith("tcp:", StringComparison.Ordinal))
            return ParseTcp(text, listening, out error);
        if (text.StartsWith("unix:", StringComparison.Ordinal))
        {
            var path = text["unix:".Length..];
            if (path.Length == 0)
                error = "unix: needs a socket path, e.g. unix:/tmp/app.sock";
            else if (Encoding.UTF8.GetByteCount(path) > MaxUnixPathBytes)
                error = $"the socket path is longer than {MaxUnixPathBytes} bytes (sun_path)";
            else if (path.Contains('\0', StringComparison.Ordinal))
                error = "the socket path has a NUL byte";
            return error.Length == 0 ? new ForwardAddress(ForwardKind.Unix, text, new UnixDomainSocketEndPoint(path)) : null;
        }
        if (text.StartsWith(VmciEndpoint.Scheme + "://", StringComparison.Ordinal))
        {
            if (!VmciEndpoint.TryParse(text, out var endpoint))
                error = "not a vmci:// endpoint; the form is vmci://CID:PORT, e.g. vmci://3:5555";
            else if (!listening && !endpoint.IsLocalCid && endpoint.Cid == VmciCid.Any)
                error = "a connection needs a CID (a number or @), not *";
            else if (!listening && endpoint.Port == VmciPort.Any)
                error = "a connection needs a port number, not *";
            return error.Length == 0 ? new ForwardAddress(ForwardKind.Vmci, text, null) : null;
        }
        error = $"must be one of {Forms}";
        return null;
    }

    private static ForwardAddress? ParseTcp(string text, bool listening, out string error)
    {
        var rest = text["tcp:".Length..];
        var colon = rest.LastIndexOf(':');
        var host = colon > 0 ? rest[..colon] : "";
        if (host.StartsWith('[') && host.EndsWith(']'))
            host = host[1..^1];
        var minPort = listening ? 0 : 1;
        if (colon <= 0 || !IPAddress.TryParse(host, out var ip))
        {
            error = "tcp: needs an IP address and a port, e.g. tcp:127.0.0.1:8080 (no host names: nothing is looked up)";
            return null;
        }
        if (!int.TryParse(rest[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port < minPort || port > IPEndPoint.MaxPort)
        {
            error = listening ? "the port must be 0 (any free port) to 65535" : "the port must be 1 to 65535";
            return null;
        }
        error = "";
        return new ForwardAddress(ForwardKind.Tcp, text, new IPEndPoint(ip, port));
    }

    /// <summary>A socket for this TCP or Unix address.</summary>
    public Socket NewSocket() => Kind == ForwardKind.Tcp
        ? new Socket(SocketEndPoint!.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true }
        : new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);

    /// <summary>How a bound socket's address is written: <c>tcp:127.0.0.1:41234</c> (the port bound), <c>unix:PATH</c>.</summary>
    public static string Describe(EndPoint? bound, ForwardAddress requested) => bound switch
    {
        IPEndPoint { AddressFamily: AddressFamily.InterNetworkV6 } ip => string.Create(CultureInfo.InvariantCulture, $"tcp:[{ip.Address}]:{ip.Port}"),
        IPEndPoint ip => string.Create(CultureInfo.InvariantCulture, $"tcp:{ip.Address}:{ip.Port}"),
        _ => requested.Text,
    };
}
