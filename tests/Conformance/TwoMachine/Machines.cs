using Vmci;
using Vmci.TestKit.Agent;

namespace Conformance.TwoMachine;

/// <summary>
/// One of the two machines of a two-machine case, as the case sees it: this process (<see cref="LocalMachine"/>) or the
/// agent (<see cref="RemoteMachine"/>). A case is written once against these and run with the listener on either side.
/// </summary>
public interface IMachine
{
    /// <summary>The machine's CID.</summary>
    uint Cid { get; }

    /// <summary>The backend: <c>sim</c> or <c>vsock</c>.</summary>
    string Backend { get; }

    /// <summary>Binds <c>vmci://*:*</c> (or <paramref name="address"/>) and listens.</summary>
    Task<IListenerEnd> ListenAsync(VsockOptions? options = null, string address = "vmci://*:*");

    /// <summary>Connects to <paramref name="target"/>.</summary>
    Task<IStreamEnd> ConnectAsync(VsockAddress target, VsockOptions? options = null);

    /// <summary>A NetMQ socket of <paramref name="type"/> on this machine's backend (linger 0).</summary>
    Task<ISocketEnd> SocketAsync(string type, RemoteSocketOptions? options = null);
}

/// <summary>A listener on one of the machines.</summary>
public interface IListenerEnd
{
    /// <summary>Its bound address.</summary>
    VsockAddress Address { get; }

    /// <summary>Accepts the next connection (start it before the other side connects).</summary>
    Task<IStreamEnd> AcceptAsync();

    /// <summary>Closes it.</summary>
    Task CloseAsync();
}

/// <summary>A vsock stream on one of the machines.</summary>
public interface IStreamEnd
{
    /// <summary>getsockname.</summary>
    VsockAddress Local { get; }

    /// <summary>getpeername.</summary>
    VsockAddress Remote { get; }

    /// <summary>Sends <paramref name="size"/> bytes of the payload of <paramref name="seed"/>.</summary>
    Task SendAsync(long size, int seed);

    /// <summary>Reads <paramref name="size"/> bytes, or to the end of the stream when null.</summary>
    Task<StreamDigest> ReceiveAsync(long? size = null);

    /// <summary>Half-closes.</summary>
    Task ShutdownSendAsync();

    /// <summary>Reads an option back.</summary>
    Task<ulong> GetOptionAsync(VsockOption option);

    /// <summary>Closes.</summary>
    Task CloseAsync();
}

/// <summary>A NetMQ socket on one of the machines.</summary>
public interface ISocketEnd
{
    /// <summary>VmciBind; LAST_ENDPOINT.</summary>
    Task<string> BindAsync(string endpoint);

    /// <summary>VmciConnect; LAST_ENDPOINT.</summary>
    Task<string> ConnectAsync(string endpoint);

    /// <summary>VmciUnbind.</summary>
    Task UnbindAsync(string endpoint);

    /// <summary>Subscribes to everything (SUB).</summary>
    Task SubscribeAsync();

    /// <summary>Sends one multipart message.</summary>
    Task SendAsync(IReadOnlyList<RemoteFrame> frames);

    /// <summary>Receives one multipart message and sends it back unchanged (envelope included); returns what it received.</summary>
    Task<IReadOnlyList<RemoteFrame>> EchoAsync(TimeSpan timeout);

    /// <summary>Receives one multipart message, or null after <paramref name="timeout"/>.</summary>
    Task<IReadOnlyList<RemoteFrame>?> TryReceiveAsync(TimeSpan timeout);

    /// <summary>Closes with <paramref name="linger"/>.</summary>
    Task CloseAsync(TimeSpan? linger = null);
}

/// <summary>The agent's machine.</summary>
internal sealed class RemoteMachine(AgentClient agent) : IMachine
{
    public uint Cid => agent.Machine.Cid;

    public string Backend => agent.Machine.Backend;

    public async Task<IListenerEnd> ListenAsync(VsockOptions? options = null, string address = "vmci://*:*") =>
        new Listener(agent, await agent.ListenAsync(address, options));

    public async Task<IStreamEnd> ConnectAsync(VsockAddress target, VsockOptions? options = null) =>
        new Stream(agent, await agent.ConnectAsync(target, options));

    public async Task<ISocketEnd> SocketAsync(string type, RemoteSocketOptions? options = null) =>
        new Socket(agent, await agent.SocketAsync(type, options));

    private sealed class Listener(AgentClient agent, RemoteListener listener) : IListenerEnd
    {
        public VsockAddress Address => listener.Address;

        public async Task<IStreamEnd> AcceptAsync() => new Stream(agent, await agent.AcceptAsync(listener));

        public Task CloseAsync() => agent.CloseAsync(listener.Id);
    }

    private sealed class Stream(AgentClient agent, RemoteStream stream) : IStreamEnd
    {
        public VsockAddress Local => stream.Local;

        public VsockAddress Remote => stream.Remote;

        public Task SendAsync(long size, int seed) => agent.SendAsync(stream, size, seed);

        public Task<StreamDigest> ReceiveAsync(long? size = null) => agent.ReceiveAsync(stream, size);

        public Task ShutdownSendAsync() => agent.ShutdownSendAsync(stream);

        public Task<ulong> GetOptionAsync(VsockOption option) => agent.GetOptionAsync(stream, option);

        public Task CloseAsync() => agent.CloseAsync(stream.Id);
    }

    private sealed class Socket(AgentClient agent, RemoteSocket socket) : ISocketEnd
    {
        public Task<string> BindAsync(string endpoint) => agent.BindAsync(socket, endpoint);

        public Task<string> ConnectAsync(string endpoint) => agent.ConnectAsync(socket, endpoint);

        public Task UnbindAsync(string endpoint) => agent.UnbindAsync(socket, endpoint);

        public Task SubscribeAsync() => agent.SubscribeAsync(socket);

        public Task SendAsync(IReadOnlyList<RemoteFrame> frames) => agent.SendAsync(socket, frames);

        public Task<IReadOnlyList<RemoteFrame>> EchoAsync(TimeSpan timeout) => agent.EchoAsync(socket, timeout);

        public async Task<IReadOnlyList<RemoteFrame>?> TryReceiveAsync(TimeSpan timeout)
        {
            try
            {
                return await agent.ReceiveAsync(socket, timeout);
            }
            catch (VmciException e) when (e.Errno == Errno.EAGAIN)
            {
                return null;
            }
        }

        public Task CloseAsync(TimeSpan? linger = null) => agent.CloseAsync(socket.Id, linger);
    }
}
