using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Vmci.Sim.Internal;

/// <summary>
/// <c>&lt;fabric&gt;/faults.json</c>: <c>{"version": n, "nextId": m, "faults": [...]}</c>. Writers take
/// <c>faults.lock</c> (flock), read, change, write a temporary file and rename it over the old one, so readers in
/// other processes always see a whole version.
/// </summary>
internal static class FaultFile
{
    public static FaultSet Read(string path)
    {
        try
        {
            var bytes = File.ReadAllBytes(path);
            return JsonSerializer.Deserialize(bytes, FaultJsonContext.Default.FaultDocument) is { } doc
                ? new FaultSet(doc.Version, doc.NextId, doc.Faults ?? [])
                : FaultSet.Empty;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return FaultSet.Empty;
        }
        catch (JsonException e)
        {
            throw VmciError.Create(Errno.EINVAL, VmciOperation.ChangeFabric, path, $"not a faults file: {e.Message}", e);
        }
    }

    /// <summary>Reads, changes and writes the file under its lock; returns the new set.</summary>
    public static FaultSet Update(string path, Func<FaultSet, IReadOnlyList<SimFault>> change)
    {
        using var held = Lock(path + ".lock");
        var current = Read(path);
        var faults = change(current);
        var next = new FaultSet(current.Version + 1, Math.Max(current.NextId, faults.Count == 0 ? 1 : faults.Max(f => f.Id) + 1), faults);
        var temporary = path + "." + Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + ".tmp";
        File.WriteAllBytes(temporary, JsonSerializer.SerializeToUtf8Bytes(
            new FaultDocument(next.Version, next.NextId, [.. next.Faults]), FaultJsonContext.Default.FaultDocument));
        File.Move(temporary, path, overwrite: true);
        return next;
    }

    private static FileStream Lock(string lockPath)
    {
        var deadline = Environment.TickCount64 + 10_000;
        while (true)
        {
            try
            {
                // FileShare.None takes flock(LOCK_EX | LOCK_NB) on Unix.
                return new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException e) when (Environment.TickCount64 < deadline)
            {
                _ = e;
                Thread.Yield();
            }
        }
    }
}

/// <summary>The JSON document.</summary>
internal sealed record FaultDocument(long Version, long NextId, SimFault[]? Faults);

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    UseStringEnumConverter = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(FaultDocument))]
internal sealed partial class FaultJsonContext : JsonSerializerContext;
