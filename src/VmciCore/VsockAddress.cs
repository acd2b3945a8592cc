using System.Globalization;

namespace Vmci;

/// <summary>
/// A concrete vsock address: a context ID and a port, as in <c>struct sockaddr_vm</c>.
/// Its string form is the canonical endpoint, <c>vmci://2:5555</c>, with <see cref="VmciCid.Any"/> and
/// <see cref="VmciPort.Any"/> written <c>*</c>.
/// </summary>
/// <param name="Cid">The context ID.</param>
/// <param name="Port">The port.</param>
public readonly record struct VsockAddress(uint Cid, uint Port)
{
    /// <summary>The canonical endpoint string, as ZMQ_LAST_ENDPOINT reports it.</summary>
    public override string ToString() => $"{VmciEndpoint.Scheme}://{Format(Cid, VmciCid.Any)}:{Format(Port, VmciPort.Any)}";

    internal static string Format(uint value, uint any) =>
        value == any ? "*" : value.ToString(CultureInfo.InvariantCulture);
}
