using System.Xml;
using System.Xml.Linq;

namespace Vmci.Cli.Conformance;

/// <summary>
/// Names the suite's JUnit report by where it ran: xUnit names each testsuite by the assembly's path and every host
/// "localhost", so reports collected from several machines and backends could not be told apart. Each testsuite gets
/// the name <c>zmq_vmci(7) conformance: sim on HOST (CID 2)</c>, the real host name, and properties (backend, host,
/// cid, kernel, tool version).
/// </summary>
internal static class JUnitReport
{
    /// <summary>Rewrites <paramref name="path"/> in place (through a new file renamed over it).</summary>
    /// <exception cref="InvalidDataException">The file is not a JUnit report.</exception>
    public static void Annotate(string path, RunInfo info)
    {
        XDocument document;
        try
        {
            document = XDocument.Load(path);
        }
        catch (XmlException e)
        {
            throw new InvalidDataException($"the suite's JUnit report {path} is not XML: {e.Message}", e);
        }
        var suites = document.Root?.Name.LocalName switch
        {
            "testsuites" => document.Root.Elements("testsuite").ToList(),
            "testsuite" => [document.Root],
            _ => throw new InvalidDataException($"the suite's JUnit report {path} has no testsuites element"),
        };
        foreach (var suite in suites)
        {
            suite.SetAttributeValue("name", $"zmq_vmci(7) conformance: {info.Title}");
            suite.SetAttributeValue("hostname", info.Host);
            suite.Element("properties")?.Remove();
            suite.AddFirst(new XElement("properties", Properties(info).Select(p => new XElement("property", new XAttribute("name", p.Name), new XAttribute("value", p.Value)))));
        }
        var temporary = path + ".tmp-" + Guid.NewGuid().ToString("N")[..8];
        document.Save(temporary);
        File.Move(temporary, path, overwrite: true);
    }

    private static IEnumerable<(string Name, string Value)> Properties(RunInfo info)
    {
        yield return ("backend", info.Backend);
        yield return ("host", info.Host);
        if (info.Cid is { } cid)
            yield return ("cid", cid.ToString(System.Globalization.CultureInfo.InvariantCulture));
        yield return ("kernel", info.Kernel);
        yield return ("tool-version", info.ToolVersion);
    }
}
