using Vmci.Sim;

namespace Conformance.Support;

/// <summary>A simulator fabric in a fresh temporary directory, deleted with everything in it on dispose.</summary>
public sealed class TempFabric : IDisposable
{
    /// <summary>Creates the directory and opens the fabric there.</summary>
    public TempFabric()
    {
        var dir = Path.Combine(Path.GetTempPath(), "vmci-conf-" + Guid.NewGuid().ToString("N")[..12]);
        Fabric = SimFabric.Open(dir);
    }

    /// <summary>The fabric.</summary>
    public SimFabric Fabric { get; }

    /// <inheritdoc />
    public void Dispose()
    {
        try
        {
            Directory.Delete(Fabric.Directory, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}
