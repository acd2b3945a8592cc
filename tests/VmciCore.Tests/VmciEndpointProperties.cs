using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Vmci;

namespace VmciCore.Tests;

/// <summary>SPEC §1 as properties over random input.</summary>
public sealed class VmciEndpointProperties
{
    private static readonly char[] Alphabet = "vmci:/*@-+ 0123456789x\t".ToCharArray();

    /// <summary>Random strings made mostly of the grammar's own characters, so many are near misses.</summary>
    private static Arbitrary<string> NearMisses() =>
        Gen.OneOf(
                Gen.Elements(Alphabet).ArrayOf().Select(cs => new string(cs)),
                Gen.Elements(Alphabet).ArrayOf().Select(cs => "vmci://" + new string(cs)),
                ArbMap.Default.GeneratorFor<string>().Where(s => s is not null))
            .ToArbitrary();

    [Property(MaxTest = 2000)]
    public Property Parse_AnyString_ParsesOrThrowsTheDocumentedErrorOnly() =>
        Prop.ForAll(NearMisses(), input =>
        {
            try
            {
                var parsed = VmciEndpoint.Parse(input);
                return VmciEndpoint.Parse(parsed.ToString()) == parsed && VmciEndpoint.TryParse(input, out _);
            }
            catch (VmciException ex)
            {
                var expected = input.Contains("://", StringComparison.Ordinal) && !input.StartsWith("://", StringComparison.Ordinal)
                    && !input.StartsWith("vmci://", StringComparison.Ordinal)
                    ? Errno.EPROTONOSUPPORT
                    : Errno.EINVAL;
                return ex.Errno == expected && ex.Endpoint == input && !VmciEndpoint.TryParse(input, out _);
            }
        });

    [Property(MaxTest = 2000)]
    public Property Parse_OfFormat_RoundTrips() =>
        Prop.ForAll(
            ArbMap.Default.ArbFor<uint>(), ArbMap.Default.ArbFor<uint>(), ArbMap.Default.ArbFor<bool>(),
            (cid, port, local) =>
            {
                var endpoint = local ? VmciEndpoint.ForLocalCid(port) : VmciEndpoint.For(cid, port);
                return VmciEndpoint.Parse(endpoint.ToString()) == endpoint;
            });

    [Property(MaxTest = 500)]
    public Property Parse_LeadingZeros_AreDropped() =>
        Prop.ForAll(
            ArbMap.Default.ArbFor<uint>(), Gen.Choose(0, 5).ToArbitrary(),
            (port, zeros) =>
            {
                var text = $"vmci://2:{new string('0', zeros)}{port}";
                return VmciEndpoint.Parse(text).Port == port;
            });
}
