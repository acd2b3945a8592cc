using System.Security.Cryptography;
using System.Text.Json;

namespace Vmci.TestKit.Agent;

/// <summary>
/// One control connection of an <see cref="AgentServer"/>, served on a thread of its own: requests are read a line at a
/// time and run one after the other (NetMQ sockets stay on this thread), each bounded in time and size. What the
/// session opened (listeners, connections, sockets) is closed when the connection ends.
/// </summary>
internal sealed partial class AgentSession : IDisposable
{
    private const int MaxObjects = 256;
    private const long MaxStreamBytes = 256L << 20;
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan MaxTimeout = TimeSpan.FromMinutes(2);

    private readonly IVsockNetwork _network;
    private readonly IVsockConnection _control;
    private readonly PeerMachine _machine;
    private readonly TextWriter _log;
    private readonly Dictionary<int, object> _objects = [];
    private readonly CancellationTokenSource _stopping = new();
    private readonly byte[] _line = new byte[AgentProtocol.MaxLineBytes];
    private int _lineLength;
    private int _nextId;

    public AgentSession(IVsockNetwork network, IVsockConnection control, PeerMachine machine, TextWriter log)
    {
        _network = network;
        _control = control;
        _machine = machine;
        _log = log;
        var thread = new Thread(Run) { IsBackground = true, Name = $"vmci agent {control.RemoteAddress}" };
        thread.Start();
    }

    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task Completion => _done.Task;

    public void Stop()
    {
        _stopping.Cancel();
        _control.Abort();
    }

    private void Run()
    {
        _log.WriteLine($"agent: session from {_control.RemoteAddress}");
        try
        {
            while (ReadLine() is { } line)
            {
                AgentReply reply;
                try
                {
                    var request = JsonSerializer.Deserialize(line, AgentJsonContext.Default.AgentRequest)
                        ?? throw VmciError.Create(Errno.EPROTO, VmciOperation.Receive, null, "the request is JSON null");
                    reply = Dispatch(request);
                }
                catch (JsonException e)
                {
                    reply = Failure(VmciError.Create(Errno.EPROTO, VmciOperation.Receive, null, $"the request is not an agent request: {e.Message}"));
                }
                catch (Exception e) when (e is VmciException or NetMQ.NetMQException or ArgumentException or InvalidOperationException)
                {
                    reply = Failure(e);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    // A request no rule above foresaw: the client hears what broke, the agent goes on serving.
                    _log.WriteLine($"agent: a request from {_control.RemoteAddress} failed unexpectedly: {e}");
                    reply = Failure(VmciError.Create(Errno.EPROTO, VmciOperation.Receive, null, $"the agent could not run the request ({e.GetType().Name}: {e.Message})"));
                }
                Write(reply);
            }
        }
        catch (Exception e) when (e is VmciException or IOException or ObjectDisposedException)
        {
            _log.WriteLine($"agent: session from {_control.RemoteAddress} ended: {e.Message}");
        }
        finally
        {
            CloseAll();
            _control.Dispose();
            _done.TrySetResult();
        }
    }

    /// <summary>Releases the session's own resources once it has ended.</summary>
    public void Dispose() => _stopping.Dispose();

    private AgentReply Dispatch(AgentRequest r) => r.Op switch
    {
        "hello" => new AgentReply { Ok = true, Machine = _machine },
        "stream.listen" => Listen(r),
        "stream.accept" => Accept(r),
        "stream.connect" => Connect(r),
        "stream.send" => Send(r),
        "stream.receive" => Receive(r),
        "stream.shutdown" => Do(r, c => c.ShutdownSend()),
        "stream.abort" => Do(r, c => c.Abort()),
        "stream.getOption" => new AgentReply { Ok = true, Value = Get<IVsockConnection>(r).GetOption(ParseOption(r.Option)) },
        "stream.setOption" => Do(r, c => c.SetOption(ParseOption(r.Option), r.Value ?? throw Invalid("value", "is required"))),
        "close" => Close(r),
        null => throw Invalid("op", "is required"),
        _ when r.Op.StartsWith("socket.", StringComparison.Ordinal) => DispatchSocket(r),
        _ => throw Invalid("op", $"'{r.Op}' is not an agent operation"),
    };

    private AgentReply Listen(AgentRequest r)
    {
        var address = VmciEndpoint.Parse(r.Address ?? "vmci://*:*").Resolve(_network.GetLocalCid);
        var listener = _network.Listen(address, VsockOptionsOf(r.Options), r.Options?.Backlog ?? 128);
        return new AgentReply { Ok = true, Id = Add(listener), Address = listener.LocalAddress.ToString() };
    }

    private AgentReply Accept(AgentRequest r)
    {
        var listener = Get<IVsockListener>(r);
        using var timeout = Timeout(r);
        var connection = listener.AcceptAsync(timeout.Token).AsTask().GetAwaiter().GetResult();
        return Connected(connection);
    }

    private AgentReply Connect(AgentRequest r)
    {
        var address = VmciEndpoint.Parse(r.Address ?? throw Invalid("address", "is required")).Resolve(_network.GetLocalCid);
        using var timeout = Timeout(r);
        var connection = _network.ConnectAsync(address, VsockOptionsOf(r.Options), timeout.Token).AsTask().GetAwaiter().GetResult();
        return Connected(connection);
    }

    private AgentReply Connected(IVsockConnection connection)
    {
        try
        {
            return new AgentReply
            {
                Ok = true,
                Id = Add(connection),
                Local = connection.LocalAddress.ToString(),
                Remote = connection.RemoteAddress.ToString(),
            };
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    private AgentReply Send(AgentRequest r)
    {
        var connection = Get<IVsockConnection>(r);
        var size = Size(r.Size, MaxStreamBytes);
        using var timeout = Timeout(r);
        var chunk = new byte[64 * 1024];
        for (long done = 0; done < size;)
        {
            var n = (int)Math.Min(chunk.Length, size - done);
            PayloadStream.Fill(r.Seed ?? 0, done, chunk.AsSpan(0, n));
            connection.SendAsync(chunk.AsMemory(0, n), timeout.Token).AsTask().GetAwaiter().GetResult();
            done += n;
        }
        return new AgentReply { Ok = true, Size = size };
    }

    /// <summary>Reads <see cref="AgentRequest.Size"/> bytes (or, without a size, to the end of the stream): length, SHA-256, end of stream.</summary>
    private AgentReply Receive(AgentRequest r)
    {
        var connection = Get<IVsockConnection>(r);
        var wanted = r.Size is null ? MaxStreamBytes : Size(r.Size, MaxStreamBytes);
        using var timeout = Timeout(r);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var chunk = new byte[64 * 1024];
        long read = 0;
        var end = false;
        while (read < wanted)
        {
            var n = connection.ReceiveAsync(chunk.AsMemory(0, (int)Math.Min(chunk.Length, wanted - read)), timeout.Token).AsTask().GetAwaiter().GetResult();
            if (n == 0)
            {
                end = true;
                break;
            }
            hash.AppendData(chunk, 0, n);
            read += n;
        }
        return new AgentReply { Ok = true, Size = read, Sha256 = Convert.ToHexStringLower(hash.GetHashAndReset()), EndOfStream = end };
    }

    private AgentReply Do(AgentRequest r, Action<IVsockConnection> action)
    {
        action(Get<IVsockConnection>(r));
        return new AgentReply { Ok = true };
    }

    private AgentReply Close(AgentRequest r)
    {
        var id = r.Id ?? throw Invalid("id", "is required");
        if (!_objects.Remove(id, out var item))
            throw Invalid("id", $"{id} names nothing open");
        Dispose(item, r.Options?.LingerMs);
        return new AgentReply { Ok = true };
    }

    private int Add(object item)
    {
        if (_objects.Count >= MaxObjects)
        {
            Dispose(item, 0);
            throw VmciError.Create(Errno.EMFILE, VmciOperation.Configure, null, $"a session holds at most {MaxObjects} open objects; close some");
        }
        _objects[++_nextId] = item;
        return _nextId;
    }

    private T Get<T>(AgentRequest r)
        where T : class
    {
        var id = r.Id ?? throw Invalid("id", "is required");
        return _objects.TryGetValue(id, out var item) && item is T typed
            ? typed
            : throw Invalid("id", $"{id} is not an open {typeof(T).Name}");
    }

    private void CloseAll()
    {
        foreach (var item in _objects.Values)
            Dispose(item, 0);
        _objects.Clear();
    }

    private static void Dispose(object item, int? lingerMs)
    {
        if (item is NetMQ.NetMQSocket socket)
            socket.Options.Linger = TimeSpan.FromMilliseconds(Math.Clamp(lingerMs ?? 0, 0, (int)MaxTimeout.TotalMilliseconds));
        (item as IDisposable)?.Dispose();
    }

    private CancellationTokenSource Timeout(AgentRequest r)
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        cts.CancelAfter(r.TimeoutMs is { } ms ? TimeSpan.FromMilliseconds(Math.Clamp(ms, 0, (int)MaxTimeout.TotalMilliseconds)) : DefaultTimeout);
        return cts;
    }

    private static long Size(long? size, long max) =>
        size is { } s && s >= 0 && s <= max ? s : throw Invalid("size", $"must be 0..{max} bytes");

    private static VsockOption ParseOption(string? name) => name switch
    {
        "bufferSize" => VsockOption.BufferSize,
        "bufferMinSize" => VsockOption.BufferMinSize,
        "bufferMaxSize" => VsockOption.BufferMaxSize,
        "connectTimeout" => VsockOption.ConnectTimeout,
        _ => throw Invalid("option", $"'{name}' is not bufferSize, bufferMinSize, bufferMaxSize or connectTimeout"),
    };

    private static VsockOptions? VsockOptionsOf(AgentSocketOptions? o) => o is null ? null : new VsockOptions
    {
        BufferSize = o.BufferSize,
        BufferMinSize = o.BufferMinSize,
        BufferMaxSize = o.BufferMaxSize,
        ConnectTimeout = o.ConnectTimeoutMs is { } ms ? TimeSpan.FromMilliseconds(ms) : null,
    };

    private static VmciException Invalid(string field, string rule) =>
        VmciError.Create(Errno.EINVAL, VmciOperation.Configure, field, rule);

    private static AgentReply Failure(Exception e)
    {
        var vmci = e as VmciException ?? e.InnerException as VmciException;
        return new AgentReply { Ok = false, Errno = (vmci?.Errno ?? Errno.EIO).ToString(), Message = vmci?.Message ?? e.Message };
    }

    /// <summary>The next request line, or null at the end of the control stream.</summary>
    private byte[]? ReadLine()
    {
        while (true)
        {
            var newline = _line.AsSpan(0, _lineLength).IndexOf((byte)'\n');
            if (newline >= 0)
            {
                var line = _line.AsSpan(0, newline).ToArray();
                _line.AsSpan(newline + 1, _lineLength - newline - 1).CopyTo(_line);
                _lineLength -= newline + 1;
                return line;
            }
            if (_lineLength == _line.Length)
            {
                Write(Failure(VmciError.Create(Errno.EMSGSIZE, VmciOperation.Receive, null, $"a request line is at most {AgentProtocol.MaxLineBytes} bytes")));
                return null;
            }
            var n = _control.ReceiveAsync(_line.AsMemory(_lineLength), _stopping.Token).AsTask().GetAwaiter().GetResult();
            if (n == 0)
                return null;
            _lineLength += n;
        }
    }

    private void Write(AgentReply reply)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(reply, AgentJsonContext.Default.AgentReply);
        var line = new byte[bytes.Length + 1];
        bytes.CopyTo(line, 0);
        line[^1] = (byte)'\n';
        _control.SendAsync(line, _stopping.Token).AsTask().GetAwaiter().GetResult();
    }
}
