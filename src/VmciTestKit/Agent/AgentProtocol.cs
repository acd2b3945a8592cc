using System.Text.Json.Serialization;

namespace Vmci.TestKit.Agent;

/// <summary>
/// The agent's wire protocol: over one vsock stream (the transport under test), one JSON object a line each way —
/// a request, then its reply — in turn. Lines are at most <see cref="MaxLineBytes"/> long; the agent closes a control
/// connection that breaks a rule, after a reply naming it.
/// </summary>
internal static class AgentProtocol
{
    /// <summary>The version a hello reports; a client refuses an agent of another version.</summary>
    public const int Version = 1;

    /// <summary>The longest line either side accepts.</summary>
    public const int MaxLineBytes = 64 * 1024;
}

/// <summary>One request. <see cref="Op"/> names the operation; the other members are its arguments, each optional.</summary>
internal sealed record AgentRequest
{
    public string? Op { get; init; }

    public int? Id { get; init; }

    public string? Address { get; init; }

    public string? Type { get; init; }

    public AgentSocketOptions? Options { get; init; }

    public long? Size { get; init; }

    public int? Seed { get; init; }

    public int? TimeoutMs { get; init; }

    public string? Option { get; init; }

    public ulong? Value { get; init; }

    public List<AgentFrame>? Frames { get; init; }

    public string? Topic { get; init; }
}

/// <summary>Socket options a request may set: vsock buffer and timeout options, NetMQ's own, CURVE keys (Z85).</summary>
internal sealed record AgentSocketOptions
{
    public ulong? BufferSize { get; init; }

    public ulong? BufferMinSize { get; init; }

    public ulong? BufferMaxSize { get; init; }

    public int? ConnectTimeoutMs { get; init; }

    public int? LingerMs { get; init; }

    public int? ReconnectIntervalMs { get; init; }

    public string? CurveSecretKey { get; init; }

    public string? CurveServerKey { get; init; }

    public bool? CurveServer { get; init; }

    public int? Backlog { get; init; }
}

/// <summary>A NetMQ frame: literal text, or <see cref="Size"/> deterministic bytes from <see cref="Seed"/> (received: size and SHA-256).</summary>
internal sealed record AgentFrame
{
    public string? Text { get; init; }

    public long? Size { get; init; }

    public int? Seed { get; init; }

    public string? Sha256 { get; init; }
}

/// <summary>One reply: <see cref="Ok"/>, or the errno and message of the failure on the agent's side.</summary>
internal sealed record AgentReply
{
    public bool Ok { get; init; }

    public string? Errno { get; init; }

    public string? Message { get; init; }

    public int? Id { get; init; }

    public string? Address { get; init; }

    public string? Local { get; init; }

    public string? Remote { get; init; }

    public long? Size { get; init; }

    public string? Sha256 { get; init; }

    public bool? EndOfStream { get; init; }

    public ulong? Value { get; init; }

    public List<AgentFrame>? Frames { get; init; }

    public PeerMachine? Machine { get; init; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(AgentRequest))]
[JsonSerializable(typeof(AgentReply))]
internal sealed partial class AgentJsonContext : JsonSerializerContext;
