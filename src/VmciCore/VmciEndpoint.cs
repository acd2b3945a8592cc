using System.Diagnostics.CodeAnalysis;

namespace Vmci;

/// <summary>
/// A parsed <c>vmci://&lt;cid&gt;:&lt;port&gt;</c> endpoint (zmq_vmci(7)). The cid is <c>*</c>/<c>-1</c> (any),
/// <c>@</c> (the local CID, resolved at bind or connect) or a decimal 0..4294967295; the port is <c>*</c>/<c>-1</c>
/// (ephemeral) or a decimal 0..4294967295. The address splits at the last colon. Parsing is strict: trailing
/// junk, signs and spaces are errors (libzmq's strtoul ignores them; see docs/deviations.md).
/// </summary>
public readonly record struct VmciEndpoint
{
    /// <summary>The scheme, compared case-sensitively.</summary>
    public const string Scheme = "vmci";

    private VmciEndpoint(uint cid, uint port, bool isLocalCid)
    {
        Cid = cid;
        Port = port;
        IsLocalCid = isLocalCid;
    }

    /// <summary>The context ID; <see cref="VmciCid.Any"/> for <c>*</c>. Meaningless while <see cref="IsLocalCid"/> is true.</summary>
    public uint Cid { get; }

    /// <summary>The port; <see cref="VmciPort.Any"/> for <c>*</c>.</summary>
    public uint Port { get; }

    /// <summary>True when the cid was written <c>@</c>: the local CID, looked up when the endpoint is resolved.</summary>
    public bool IsLocalCid { get; }

    /// <summary>An endpoint for a numeric (or any) CID and a port.</summary>
    public static VmciEndpoint For(uint cid, uint port) => new(cid, port, false);

    /// <summary>An endpoint for the local CID (<c>@</c>) and a port.</summary>
    public static VmciEndpoint ForLocalCid(uint port) => new(0, port, true);

    /// <summary>Parses an endpoint.</summary>
    /// <exception cref="VmciException">EPROTONOSUPPORT for a scheme other than <c>vmci</c>; EINVAL for any other malformed input.</exception>
    public static VmciEndpoint Parse(string endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        var (errno, rule) = TryParseCore(endpoint, out var result);
        return errno is { } e ? throw VmciError.Create(e, VmciOperation.Parse, endpoint, rule) : result;
    }

    /// <summary>Parses an endpoint; false when <see cref="Parse"/> would throw.</summary>
    public static bool TryParse([NotNullWhen(true)] string? endpoint, out VmciEndpoint result)
    {
        result = default;
        return endpoint is not null && TryParseCore(endpoint, out result).Errno is null;
    }

    /// <summary>True when <paramref name="endpoint"/> names the vmci scheme (whatever follows).</summary>
    public static bool HasVmciScheme(string? endpoint) =>
        endpoint is not null && endpoint.StartsWith(Scheme + "://", StringComparison.Ordinal);

    /// <summary>The concrete address, with <c>@</c> replaced by <paramref name="localCid"/>.</summary>
    /// <param name="localCid">Returns the local CID; called only when <see cref="IsLocalCid"/> is true. It throws ENODEV when there is none.</param>
    public VsockAddress Resolve(Func<uint> localCid)
    {
        ArgumentNullException.ThrowIfNull(localCid);
        return new VsockAddress(IsLocalCid ? localCid() : Cid, Port);
    }

    /// <summary>The canonical form: <c>vmci://</c> + (<c>*</c>, <c>@</c> or decimal cid) + <c>:</c> + (<c>*</c> or decimal port).</summary>
    public override string ToString() =>
        IsLocalCid ? $"{Scheme}://@:{VsockAddress.Format(Port, VmciPort.Any)}" : new VsockAddress(Cid, Port).ToString();

    private static (Errno? Errno, string? Rule) TryParseCore(string endpoint, out VmciEndpoint result)
    {
        result = default;
        var sep = endpoint.IndexOf("://", StringComparison.Ordinal);
        if (sep < 0)
            return (Errno.EINVAL, "an endpoint is transport://address and '://' is missing");
        if (sep == 0)
            return (Errno.EINVAL, "the transport (before '://') is empty");
        var scheme = endpoint[..sep];
        if (!string.Equals(scheme, Scheme, StringComparison.Ordinal))
            return (Errno.EPROTONOSUPPORT, $"transport '{scheme}' is not 'vmci' (the scheme is case-sensitive)");
        var address = endpoint.AsSpan(sep + 3);
        if (address.IsEmpty)
            return (Errno.EINVAL, "the address after 'vmci://' is empty");
        var colon = address.LastIndexOf(':');
        if (colon < 0)
            return (Errno.EINVAL, "the address must be <cid>:<port> and has no ':'");
        var cidText = address[..colon];
        var portText = address[(colon + 1)..];
        if (cidText.IsEmpty)
            return (Errno.EINVAL, "the cid (before the last ':') is empty");
        if (portText.IsEmpty)
            return (Errno.EINVAL, "the port (after the last ':') is empty");

        var isLocal = cidText is "@";
        uint cid = 0;
        if (!isLocal && !TryParseNumber(cidText, VmciCid.Any, out cid))
            return (Errno.EINVAL, $"cid '{cidText}' is not '*', '-1', '@' or a decimal number 0..4294967295");
        if (!TryParseNumber(portText, VmciPort.Any, out var port))
            return (Errno.EINVAL, $"port '{portText}' is not '*', '-1' or a decimal number 0..4294967295");
        result = new VmciEndpoint(cid, port, isLocal);
        return (null, null);
    }

    private static bool TryParseNumber(ReadOnlySpan<char> text, uint any, out uint value)
    {
        value = any;
        if (text is "*" or "-1")
            return true;
        ulong acc = 0;
        foreach (var c in text)
        {
            if (c is < '0' or > '9')
                return false;
            acc = (acc * 10) + (uint)(c - '0');
            if (acc > uint.MaxValue)
                return false;
        }
        value = (uint)acc;
        return true;
    }
}
