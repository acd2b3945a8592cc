using System.Text.Json;
using System.Text.Json.Serialization;
using Vmci.Sim.Unix;

namespace Vmci.Sim.Internal;

/// <summary>
/// <c>&lt;fabric&gt;/faults.json</c>: <c>{"version": n, "nextId": m, "faults": [...]}</c>. Writers lock the fabric
/// directory itself (flock: there is no lock file whose name could be a planted link), read, change, write a new file
/// under a random name (exclusive create) and rename it over the old one, so readers in other processes always see a
/// whole version. Readers never follow a link at the name, never block on a FIFO and read at most 1 MiB.
/// </summary>
internal static class FaultFile
{
    /// <summary>The largest faults file read: far more than any set of faults needs.</summary>
    public const int MaxBytes = 1 << 20;

    private static readonly TimeSpan LockWait = TimeSpan.FromSeconds(10);

    public static FaultSet Read(string path)
    {
        var errno = UnixFiles.ReadSmall(path, MaxBytes, out var bytes);
        if (errno is Interop.ENOENT or Interop.ENOTDIR)
            return FaultSet.Empty;
        if (errno != 0)
            throw FabricEntries.FileError(errno, VmciOperation.ChangeFabric, path, MaxBytes);
        try
        {
            return JsonSerializer.Deserialize(bytes, FaultJsonContext.Default.FaultDocument) is { } doc
                ? new FaultSet(doc.Version, doc.NextId, doc.Faults ?? [])
                : FaultSet.Empty;
        }
        catch (JsonException e)
        {
            throw VmciError.Create(Errno.EINVAL, VmciOperation.ChangeFabric, path, $"not a faults file: {e.Message}", e);
        }
    }

    /// <summary>Reads, changes and writes the file under the fabric directory's lock; returns the new set.</summary>
    public static FaultSet Update(string path, FabricAccess access, Func<FaultSet, IReadOnlyList<SimFault>> change)
    {
        var directory = Path.GetDirectoryName(path)!;
        using var held = UnixFiles.LockDirectory(directory, LockWait, out var locked)
            ?? throw VmciError.FromErrno(locked, VmciOperation.ChangeFabric, directory,
                locked == Interop.EWOULDBLOCK ? "another process held the fabric's lock for 10 s" : "cannot lock the fabric directory");
        var current = Read(path);
        var faults = change(current);
        var next = new FaultSet(current.Version + 1, Math.Max(current.NextId, faults.Count == 0 ? 1 : faults.Max(f => f.Id) + 1), faults);
        var bytes = JsonSerializer.SerializeToUtf8Bytes(new FaultDocument(next.Version, next.NextId, [.. next.Faults]), FaultJsonContext.Default.FaultDocument);
        var errno = UnixFiles.WriteReplacing(path, bytes, access.FileMode);
        if (errno != 0)
            throw FabricEntries.FileError(errno, VmciOperation.ChangeFabric, path, 0);
        return next;
    }
}

/// <summary>The JSON document.</summary>
internal sealed record FaultDocument(long Version, long NextId, SimFault[]? Faults);

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    UseStringEnumConverter = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(FaultDocument))]
internal sealed partial class FaultJsonContext : JsonSerializerContext;
