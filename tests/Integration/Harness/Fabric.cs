namespace Integration.Harness;

/// <summary>
/// A per-test fabric directory: the one thing simulated VMs share. Created with mode 0700 for the
/// current user (peers in containers run with the same uid:gid); deleted with everything in it on dispose.
/// </summary>
public sealed class Fabric : IDisposable
{
    private Fabric(string path) => Path = path;

    /// <summary>The directory's absolute path (short, so socket paths stay under 108 bytes).</summary>
    public string Path { get; }

    /// <summary>Creates a fresh, empty fabric directory under the system's temporary directory.</summary>
    /// <returns>The fabric.</returns>
    public static Fabric Create()
    {
        // CreateTempSubdirectory uses mkdtemp: mode 0700, owned by the current user.
        var directory = Directory.CreateTempSubdirectory("vmci-it-");
        return new Fabric(directory.FullName);
    }

    /// <summary>The path of a socket file named <paramref name="name"/> in the fabric.</summary>
    /// <param name="name">A file name.</param>
    /// <returns>The absolute path.</returns>
    public string SocketPath(string name) => System.IO.Path.Combine(Path, name);

    /// <inheritdoc/>
    public void Dispose()
    {
        if (Directory.Exists(Path))
        {
            Directory.Delete(Path, recursive: true);
        }
    }
}
