using System.Text.Json;

namespace Vmci.TestKit.Agent;

/// <summary>
/// Drives an <see cref="AgentServer"/> on another machine over the transport under test: the agent does, on its own
/// machine, what the methods say. A failure on the agent's side comes back as a <see cref="VmciException"/> with the
/// agent's errno, so a test asserts on it as on a local one. Requests run one at a time, each bounded by
/// <see cref="RequestTimeout"/> on top of its own time limit.
/// </summary>
public sealed class AgentClient : IDisposable
{
    private readonly IVsockConnection _control;
    private readonly SemaphoreSlim _turn = new(1, 1);
    private readonly byte[] _buffer = new byte[AgentProtocol.MaxLineBytes];
    private int _buffered;

    /// <summary>
    /// The control connection's connect timeout. The control connection is the test's own plumbing, not the behaviour under
    /// test: an agent on a machine too busy to answer within VMCI's 2-s default (a loaded CI host running TCG guests) must
    /// not fail the case. Nobody listening is still refused at once; the caller's token still ends the wait.
    /// </summary>
    private static readonly TimeSpan ControlConnectTimeout = TimeSpan.FromSeconds(30);

    private AgentClient(IVsockConnection control) => _control = control;

    /// <summary>The machine the agent runs on.</summary>
    public PeerMachine Machine { get; private set; } = null!;

    /// <summary>How long a request may take beyond its own time limit before the client gives up (ETIMEDOUT). <remarks>Defaults to 30 s.</remarks></summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Connects to the agent at <paramref name="agent"/> and greets it.</summary>
    /// <param name="network">This machine's backend.</param>
    /// <param name="agent">The agent's address, for example <c>vmci://3:5000</c>.</param>
    /// <param name="cancellationToken">Abandons the attempt.</param>
    /// <exception cref="VmciException">The connect failed, or the peer is not an agent of this protocol version (EPROTO).</exception>
    public static async Task<AgentClient> ConnectAsync(IVsockNetwork network, VsockAddress agent, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(network);
        var client = new AgentClient(await network.ConnectAsync(agent, new VsockOptions { ConnectTimeout = ControlConnectTimeout }, cancellationToken).ConfigureAwait(false));
        try
        {
            var hello = await client.CallAsync(new AgentRequest { Op = "hello" }, cancellationToken).ConfigureAwait(false);
            client.Machine = hello.Machine is { Version: AgentProtocol.Version } machine
                ? machine
                : throw VmciError.Create(Errno.EPROTO, VmciOperation.Connect, agent.ToString(), $"the peer is not a vmci agent of protocol version {AgentProtocol.Version}");
            return client;
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>The agent binds and listens on <paramref name="address"/>.</summary>
    public async Task<RemoteListener> ListenAsync(string address = "vmci://*:*", VsockOptions? options = null, CancellationToken cancellationToken = default)
    {
        var reply = await CallAsync(new AgentRequest { Op = "stream.listen", Address = address, Options = OptionsOf(options) }, cancellationToken).ConfigureAwait(false);
        return new RemoteListener(reply.Id!.Value, Address(reply.Address));
    }

    /// <summary>The agent accepts the next connection on <paramref name="listener"/>.</summary>
    public async Task<RemoteStream> AcceptAsync(RemoteListener listener, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        Stream(await CallAsync(new AgentRequest { Op = "stream.accept", Id = listener.Id, TimeoutMs = Ms(timeout) }, cancellationToken).ConfigureAwait(false));

    /// <summary>The agent connects to <paramref name="target"/>; its failure is thrown here with its errno.</summary>
    public async Task<RemoteStream> ConnectAsync(VsockAddress target, VsockOptions? options = null, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        Stream(await CallAsync(new AgentRequest { Op = "stream.connect", Address = target.ToString(), Options = OptionsOf(options), TimeoutMs = Ms(timeout) }, cancellationToken).ConfigureAwait(false));

    /// <summary>The agent sends <paramref name="size"/> bytes of the payload of <paramref name="seed"/> (<see cref="PayloadStream"/>).</summary>
    public Task SendAsync(RemoteStream stream, long size, int seed, CancellationToken cancellationToken = default) =>
        CallAsync(new AgentRequest { Op = "stream.send", Id = stream.Id, Size = size, Seed = seed }, cancellationToken);

    /// <summary>The agent reads <paramref name="size"/> bytes (null: to the end of the stream) and reports them.</summary>
    public async Task<StreamDigest> ReceiveAsync(RemoteStream stream, long? size = null, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var reply = await CallAsync(new AgentRequest { Op = "stream.receive", Id = stream.Id, Size = size, TimeoutMs = Ms(timeout) }, cancellationToken).ConfigureAwait(false);
        return new StreamDigest(reply.Size ?? 0, reply.Sha256 ?? "", reply.EndOfStream ?? false);
    }

    /// <summary>The agent half-closes <paramref name="stream"/>.</summary>
    public Task ShutdownSendAsync(RemoteStream stream, CancellationToken cancellationToken = default) =>
        CallAsync(new AgentRequest { Op = "stream.shutdown", Id = stream.Id }, cancellationToken);

    /// <summary>The agent reads an option of <paramref name="stream"/> back.</summary>
    public async Task<ulong> GetOptionAsync(RemoteStream stream, VsockOption option, CancellationToken cancellationToken = default) =>
        (await CallAsync(new AgentRequest { Op = "stream.getOption", Id = stream.Id, Option = OptionName(option) }, cancellationToken).ConfigureAwait(false)).Value ?? 0;

    /// <summary>The agent closes what <paramref name="id"/> names (a listener, a stream or a socket; a socket with <paramref name="linger"/>).</summary>
    public Task CloseAsync(int id, TimeSpan? linger = null, CancellationToken cancellationToken = default) =>
        CallAsync(new AgentRequest { Op = "close", Id = id, Options = new AgentSocketOptions { LingerMs = Ms(linger) } }, cancellationToken);

    /// <summary>The agent creates a NetMQ socket of <paramref name="type"/> (PAIR, REQ, REP, …) on its backend, linger 0.</summary>
    public async Task<RemoteSocket> SocketAsync(string type, RemoteSocketOptions? options = null, CancellationToken cancellationToken = default)
    {
        var o = options ?? new RemoteSocketOptions();
        var request = new AgentRequest
        {
            Op = "socket.new",
            Type = type,
            Options = OptionsOf(o.Vsock) is { } v
                ? v with { ReconnectIntervalMs = Ms(o.ReconnectInterval), CurveSecretKey = o.CurveSecretKey, CurveServer = o.CurveServer, CurveServerKey = o.CurveServerKey }
                : new AgentSocketOptions { ReconnectIntervalMs = Ms(o.ReconnectInterval), CurveSecretKey = o.CurveSecretKey, CurveServer = o.CurveServer, CurveServerKey = o.CurveServerKey },
        };
        return new RemoteSocket((await CallAsync(request, cancellationToken).ConfigureAwait(false)).Id!.Value, type);
    }

    /// <summary>The agent's <c>VmciBind</c>; returns its LAST_ENDPOINT.</summary>
    public Task<string> BindAsync(RemoteSocket socket, string endpoint, CancellationToken cancellationToken = default) =>
        EndpointCallAsync("socket.bind", socket, endpoint, cancellationToken);

    /// <summary>The agent's <c>VmciConnect</c>; returns its LAST_ENDPOINT.</summary>
    public Task<string> ConnectAsync(RemoteSocket socket, string endpoint, CancellationToken cancellationToken = default) =>
        EndpointCallAsync("socket.connect", socket, endpoint, cancellationToken);

    /// <summary>The agent's <c>VmciUnbind</c>.</summary>
    public Task UnbindAsync(RemoteSocket socket, string endpoint, CancellationToken cancellationToken = default) =>
        EndpointCallAsync("socket.unbind", socket, endpoint, cancellationToken);

    /// <summary>The agent's <c>VmciDisconnect</c>.</summary>
    public Task DisconnectAsync(RemoteSocket socket, string endpoint, CancellationToken cancellationToken = default) =>
        EndpointCallAsync("socket.disconnect", socket, endpoint, cancellationToken);

    /// <summary>The agent's SUB socket subscribes to <paramref name="topic"/>.</summary>
    public Task SubscribeAsync(RemoteSocket socket, string topic = "", CancellationToken cancellationToken = default) =>
        CallAsync(new AgentRequest { Op = "socket.subscribe", Id = socket.Id, Topic = topic }, cancellationToken);

    /// <summary>The agent sends one multipart message.</summary>
    public Task SendAsync(RemoteSocket socket, IReadOnlyList<RemoteFrame> frames, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(frames);
        return CallAsync(new AgentRequest
        {
            Op = "socket.send",
            Id = socket.Id,
            TimeoutMs = Ms(timeout),
            Frames = [.. frames.Select(f => new AgentFrame { Text = f.Text, Size = f.Text is null ? f.Size : null, Seed = f.Seed })],
        }, cancellationToken);
    }

    /// <summary>The agent receives one multipart message (EAGAIN when none arrives within <paramref name="timeout"/>).</summary>
    public async Task<IReadOnlyList<RemoteFrame>> ReceiveAsync(RemoteSocket socket, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var reply = await CallAsync(new AgentRequest { Op = "socket.receive", Id = socket.Id, TimeoutMs = Ms(timeout) }, cancellationToken).ConfigureAwait(false);
        return [.. (reply.Frames ?? []).Select(f => new RemoteFrame(f.Text, f.Size ?? 0, null, f.Sha256))];
    }

    /// <summary>The agent receives one multipart message and sends it back unchanged (routing envelope included).</summary>
    public async Task<IReadOnlyList<RemoteFrame>> EchoAsync(RemoteSocket socket, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var reply = await CallAsync(new AgentRequest { Op = "socket.echo", Id = socket.Id, TimeoutMs = Ms(timeout) }, cancellationToken).ConfigureAwait(false);
        return [.. (reply.Frames ?? []).Select(f => new RemoteFrame(f.Text, f.Size ?? 0, null, f.Sha256))];
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _control.Dispose();
        _turn.Dispose();
    }

    private async Task<string> EndpointCallAsync(string op, RemoteSocket socket, string endpoint, CancellationToken cancellationToken) =>
        (await CallAsync(new AgentRequest { Op = op, Id = socket.Id, Address = endpoint }, cancellationToken).ConfigureAwait(false)).Address ?? "";

    private async Task<AgentReply> CallAsync(AgentRequest request, CancellationToken cancellationToken)
    {
        await _turn.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(RequestTimeout + TimeSpan.FromMilliseconds(request.TimeoutMs ?? 0));
            var line = JsonSerializer.SerializeToUtf8Bytes(request, AgentJsonContext.Default.AgentRequest);
            await _control.SendAsync(line.Append((byte)'\n').ToArray(), deadline.Token).ConfigureAwait(false);
            var reply = JsonSerializer.Deserialize(await ReadLineAsync(deadline.Token).ConfigureAwait(false), AgentJsonContext.Default.AgentReply)
                ?? throw Protocol("the agent replied JSON null");
            return reply.Ok ? reply : throw Remote(request, reply);
        }
        catch (JsonException e)
        {
            throw Protocol($"the agent's reply is not JSON: {e.Message}");
        }
        catch (VmciException e) when (e.Errno == Errno.ECANCELED && !cancellationToken.IsCancellationRequested)
        {
            throw VmciError.Create(Errno.ETIMEDOUT, VmciOperation.Receive, _control.RemoteAddress.ToString(), $"the agent did not answer '{request.Op}' in time", e);
        }
        finally
        {
            _turn.Release();
        }
    }

    private async Task<byte[]> ReadLineAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var newline = _buffer.AsSpan(0, _buffered).IndexOf((byte)'\n');
            if (newline >= 0)
            {
                var line = _buffer.AsSpan(0, newline).ToArray();
                _buffer.AsSpan(newline + 1, _buffered - newline - 1).CopyTo(_buffer);
                _buffered -= newline + 1;
                return line;
            }
            if (_buffered == _buffer.Length)
                throw Protocol($"a reply line is longer than {AgentProtocol.MaxLineBytes} bytes");
            var n = await _control.ReceiveAsync(_buffer.AsMemory(_buffered), cancellationToken).ConfigureAwait(false);
            if (n == 0)
                throw VmciError.Create(Errno.ECONNRESET, VmciOperation.Receive, _control.RemoteAddress.ToString(), "the agent closed the control connection");
            _buffered += n;
        }
    }

    private VmciException Remote(AgentRequest request, AgentReply reply)
    {
        var errno = Enum.TryParse<Errno>(reply.Errno, out var e) && Enum.IsDefined(e) ? e : Errno.EIO;
        var operation = request.Op switch
        {
            "stream.listen" or "socket.bind" => VmciOperation.Bind,
            "stream.accept" => VmciOperation.Accept,
            "stream.connect" or "socket.connect" => VmciOperation.Connect,
            "stream.send" or "socket.send" => VmciOperation.Send,
            "stream.receive" or "socket.receive" or "socket.echo" => VmciOperation.Receive,
            "socket.unbind" => VmciOperation.Unbind,
            "socket.disconnect" => VmciOperation.Disconnect,
            _ => VmciOperation.Configure,
        };
        return VmciError.Create(errno, operation, request.Address, $"on the peer ({Machine?.ToString() ?? _control.RemoteAddress.ToString()}): {reply.Message}");
    }

    private VmciException Protocol(string detail) =>
        VmciError.Create(Errno.EPROTO, VmciOperation.Receive, _control.RemoteAddress.ToString(), detail);

    private static RemoteStream Stream(AgentReply reply) => new(reply.Id!.Value, Address(reply.Local), Address(reply.Remote));

    private static VsockAddress Address(string? text) => VmciEndpoint.Parse(text ?? "").Resolve(() => VmciCid.Any);

    private static int? Ms(TimeSpan? t) => t is { } span ? (int)Math.Ceiling(span.TotalMilliseconds) : null;

    private static string OptionName(VsockOption option) => option switch
    {
        VsockOption.BufferSize => "bufferSize",
        VsockOption.BufferMinSize => "bufferMinSize",
        VsockOption.BufferMaxSize => "bufferMaxSize",
        _ => "connectTimeout",
    };

    private static AgentSocketOptions? OptionsOf(VsockOptions? o) => o is null ? null : new AgentSocketOptions
    {
        BufferSize = o.BufferSize,
        BufferMinSize = o.BufferMinSize,
        BufferMaxSize = o.BufferMaxSize,
        ConnectTimeoutMs = o.ConnectTimeout is { } t ? (int)Math.Ceiling(t.TotalMilliseconds) : null,
    };
}
