using System.Security.Cryptography;
using System.Text;
using NetMQ;
using NetMQ.Sockets;
using Vmci.Transport;

namespace Vmci.TestKit.Agent;

/// <summary>The NetMQ operations of a session: sockets of any type with vmci endpoints, on the agent's backend.</summary>
internal sealed partial class AgentSession
{
    private const int MaxFrames = 64;
    private const long MaxMessageBytes = 64L << 20;
    private const int MaxTextBytes = 1024;

    private AgentReply DispatchSocket(AgentRequest r) => r.Op switch
    {
        "socket.new" => NewSocket(r),
        "socket.bind" => Bound(r, s => s.VmciBind(Endpoint(r))),
        "socket.connect" => Bound(r, s => s.VmciConnect(Endpoint(r))),
        "socket.unbind" => Bound(r, s => s.VmciUnbind(Endpoint(r))),
        "socket.disconnect" => Bound(r, s => s.VmciDisconnect(Endpoint(r))),
        "socket.subscribe" => Bound(r, s => ((SubscriberSocket)s).Subscribe(r.Topic ?? "")),
        "socket.send" => SendMessage(r),
        "socket.receive" => ReceiveMessage(r, echo: false),
        "socket.echo" => ReceiveMessage(r, echo: true),
        _ => throw Invalid("op", $"'{r.Op}' is not an agent operation"),
    };

    private AgentReply NewSocket(AgentRequest r)
    {
        if (r.Type is not { } type || !SocketTypes.Names.Contains(type))
            throw Invalid("type", $"'{r.Type}' is not one of {string.Join(", ", SocketTypes.Names)}");
        var socket = SocketTypes.Create(type);
        try
        {
            Configure(socket, r.Options);
            return new AgentReply { Ok = true, Id = Add(socket) };
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private void Configure(NetMQSocket socket, AgentSocketOptions? o)
    {
        socket.Options.Linger = TimeSpan.Zero;
        socket.VmciOptions().Network = _network;
        if (o is null)
            return;
        if (o.ReconnectIntervalMs is { } interval)
            socket.Options.ReconnectInterval = TimeSpan.FromMilliseconds(interval);
        if (o.BufferMaxSize is { } max)
            socket.VmciOptions().BufferMaxSize = max;
        if (o.BufferMinSize is { } min)
            socket.VmciOptions().BufferMinSize = min;
        if (o.BufferSize is { } size)
            socket.VmciOptions().BufferSize = size;
        if (o.ConnectTimeoutMs is { } timeout)
            socket.VmciOptions().ConnectTimeout = TimeSpan.FromMilliseconds(timeout);
        if (o.CurveSecretKey is { } secret)
        {
            socket.Options.CurveCertificate = NetMQCertificate.CreateFromSecretKey(secret);
            socket.Options.CurveServer = o.CurveServer ?? false;
        }
        if (o.CurveServerKey is { } serverKey)
            socket.Options.CurveServerKey = NetMQCertificate.FromPublicKey(serverKey).PublicKey;
    }

    private AgentReply Bound(AgentRequest r, Action<NetMQSocket> action)
    {
        var socket = Get<NetMQSocket>(r);
        action(socket);
        return new AgentReply { Ok = true, Address = socket.VmciLastEndpoint() };
    }

    private static string Endpoint(AgentRequest r) => r.Address ?? throw Invalid("address", "is required");

    private AgentReply SendMessage(AgentRequest r)
    {
        var socket = Get<NetMQSocket>(r);
        var frames = r.Frames is { Count: > 0 and <= MaxFrames } f ? f : throw Invalid("frames", $"1..{MaxFrames} frames are required");
        if (frames.Any(frame => frame is null))
            throw Invalid("frames", "a frame is null: each is {text} or {size, seed}");
        if (frames.Sum(frame => frame.Text is null ? Size(frame.Size, MaxMessageBytes) : frame.Text.Length) > MaxMessageBytes)
            throw Invalid("frames", $"a message is at most {MaxMessageBytes} bytes in all");
        var message = new NetMQMessage();
        foreach (var frame in frames)
        {
            if (frame.Text is { } text)
                message.Append(text);
            else
                message.Append(PayloadStream.Create((int)Size(frame.Size, MaxMessageBytes), frame.Seed ?? 0));
        }
        if (!socket.TrySendMultipartMessage(TimeSpanOf(r), message))
            throw VmciError.Create(Errno.EAGAIN, VmciOperation.Send, null, "the message could not be queued within the time limit (high-water mark)");
        return new AgentReply { Ok = true };
    }

    private AgentReply ReceiveMessage(AgentRequest r, bool echo)
    {
        var socket = Get<NetMQSocket>(r);
        NetMQMessage? message = null;
        if (!socket.TryReceiveMultipartMessage(TimeSpanOf(r), ref message))
            throw VmciError.Create(Errno.EAGAIN, VmciOperation.Receive, null, "no message arrived within the time limit");
        if (echo && !socket.TrySendMultipartMessage(TimeSpanOf(r), message))
            throw VmciError.Create(Errno.EAGAIN, VmciOperation.Send, null, "the echo could not be queued within the time limit");
        var frames = new List<AgentFrame>(message.FrameCount);
        foreach (var frame in message)
        {
            var bytes = frame.ToByteArray();
            frames.Add(new AgentFrame
            {
                Size = bytes.Length,
                Sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes)),
                Text = bytes.Length <= MaxTextBytes ? Encoding.UTF8.GetString(bytes) : null,
            });
        }
        return new AgentReply { Ok = true, Frames = frames };
    }

    private static TimeSpan TimeSpanOf(AgentRequest r) =>
        r.TimeoutMs is { } ms ? TimeSpan.FromMilliseconds(Math.Clamp(ms, 0, (int)MaxTimeout.TotalMilliseconds)) : DefaultTimeout;
}
