using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Vmci.Sim.VhostUser.Linux;
using Stopwatch = System.Diagnostics.Stopwatch;

namespace Vmci.Sim.VhostUser.Internal;

/// <summary>
/// One guest's device for one front-end session. A single device thread owns everything — the vhost-user
/// conversation, guest memory, both virtqueues and the connection table — and sleeps in poll(2) on the front-end
/// socket, the two kick eventfds and its own wake-up eventfd. Fabric I/O (connect, receive, send) runs as async
/// operations on the thread pool that post their results back (<see cref="Post"/>); nothing else touches the state.
/// The loop ends when the front-end closes its socket (normal), when <see cref="Stop"/> is called, or when the guest
/// or the front-end breaks a rule that no connection reset can contain (<see cref="Completion"/> faults with it).
/// </summary>
internal sealed partial class DeviceCore : IDisposable
{
    private readonly uint _cid;
    private readonly SimNetwork _network;
    private readonly SafeHandle _frontEnd;
    private readonly IDisposable? _frontEndOwner;
    private readonly VhostUserChannel _channel;
    private readonly VhostUserProtocol _protocol;
    private readonly WakeEvent _wake;
    private readonly ConcurrentQueue<Posted> _posted = new();
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _teardown = new();
    private readonly Action<string>? _log;
    private readonly DeviceSettings _settings;
    private readonly Dictionary<ConnectionKey, VsockConnection> _connections = [];
    private readonly List<VsockConnection> _accepting = [];
    private readonly DescriptorChain _chain = new(Virtqueue.MaxSize);
    private readonly Thread _thread;
    private int _finished;
    private volatile bool _stopping;

    /// <summary>When the first interrupt the guest has not answered with a kick yet was signalled (0: none).</summary>
    private long _unansweredCall;

    /// <param name="frontEnd">The connected vhost-user socket; owned (closed at the end) by the device.</param>
    /// <param name="name">The socket path or another name, for messages.</param>
    /// <param name="network">The guest's machine in the fabric (its CID).</param>
    /// <param name="settings">Limits and the log.</param>
    /// <param name="frontEndOwner">What else to dispose with the socket (the .NET Socket that wraps it), or null.</param>
    public DeviceCore(SafeHandle frontEnd, string name, SimNetwork network, DeviceSettings settings, IDisposable? frontEndOwner)
    {
        _frontEnd = frontEnd;
        _frontEndOwner = frontEndOwner;
        _network = network;
        _cid = network.LocalCid;
        _settings = settings;
        _log = settings.Log;
        _channel = new VhostUserChannel(frontEnd, name);
        _protocol = new VhostUserProtocol(_channel, _cid);
        _wake = WakeEvent.Create(out var errno) ?? throw DeviceErrors.StartSystem(errno, name, "cannot create the wake-up eventfd");
        _thread = new Thread(Run) { IsBackground = true, Name = $"vhost-user device CID {_cid}" };
    }

    /// <summary>Completes when the device thread has ended and released everything; faults with the rule broken.</summary>
    public Task Completion => _completion.Task;

    /// <summary>The device thread (tests check that it ends).</summary>
    internal Thread Thread => _thread;

    /// <summary>The vhost-user messages handled, by request (tests).</summary>
    internal IReadOnlyDictionary<VhostUserRequest, int> Handled => _protocol.Handled;

    /// <summary>What went through the device (tests, the closing log line).</summary>
    internal DeviceStatistics Statistics { get; } = new();

    public void Start() => _thread.Start();

    /// <summary>Ends the loop (the session is over); <see cref="Completion"/> completes once everything is released.</summary>
    public void Stop()
    {
        _stopping = true;
        _wake.Set();
    }

    /// <summary>Disposes what a never-started device holds; a started one releases everything itself when it ends.</summary>
    public void Dispose()
    {
        if (_thread.ThreadState.HasFlag(ThreadState.Unstarted))
            Teardown();
        else
            Stop();
    }

    /// <summary>Hands a fabric result to the device thread. After the end, releases what it carries at once.</summary>
    private void Post(Posted item)
    {
        _posted.Enqueue(item);
        if (Volatile.Read(ref _finished) != 0)
            ReleasePosted();
        else
            _wake.Set();
    }

    private void Run()
    {
        Exception? failure = null;
        var added = false;
        try
        {
            _frontEnd.DangerousAddRef(ref added);
            var frontEnd = (int)_frontEnd.DangerousGetHandle();
            // The front-end, the wake-up eventfd, two kicks, and the fabric sockets the device waits on.
            var fds = new Interop.PollFd[4 + _settings.MaxConnections];
            var owners = new VsockConnection?[fds.Length];
            while (!_stopping)
            {
                fds[0] = new Interop.PollFd { fd = frontEnd, events = Interop.POLLIN };
                fds[1] = new Interop.PollFd { fd = _wake.Descriptor, events = Interop.POLLIN };
                var count = 2;
                foreach (var queue in (ReadOnlySpan<Virtqueue>)[_protocol.Rx, _protocol.Tx])
                {
                    if (queue.Ready)
                        fds[count++] = new Interop.PollFd { fd = queue.Kick!.Value, events = Interop.POLLIN };
                }
                var kicks = count;
                count = AddWaiting(fds, owners, count);
                var ready = NativeIo.Poll(fds.AsSpan(0, count), NextTimeout());
                if (ready < 0)
                    throw DeviceErrors.FrontEndSystem(-ready, _channel.Name, "poll failed");
                var woke = Stopwatch.GetTimestamp();
                Statistics.Wakeups++;
                // Kicks first: a kick the guest gave before the front-end closed is counted, and the kick descriptors
                // polled are still the queues' own (the front-end's messages may replace them).
                for (var i = 2; i < kicks; i++)
                {
                    if (fds[i].revents != 0)
                        DrainKick(fds[i].fd);
                }
                if (fds[0].revents != 0 && !ServeFrontEnd())
                    break;
                if (fds[1].revents != 0)
                    _wake.Reset();
                for (var i = kicks; i < count; i++)
                {
                    if (fds[i].revents != 0 && owners[i] is { State: not ConnectionState.Closed } c)
                        Ready(c, fds[i].revents);
                    owners[i] = null;
                }
                Pump();
                Statistics.DeviceWork.AddSince(woke);
            }
        }
        catch (VmciException e)
        {
            failure = e;
        }
        catch (Exception e)
        {
            failure = DeviceErrors.Internal(_cid, e);
        }
        finally
        {
            if (added)
                _frontEnd.DangerousRelease();
        }
        if (failure is not null)
            Log($"device stopped: {failure.Message}");
        try
        {
            Teardown();
        }
        catch (Exception e)
        {
            failure ??= DeviceErrors.Internal(_cid, e);
        }
        Log(Statistics.Summary());
        if (failure is null)
            _completion.TrySetResult();
        else
            _completion.TrySetException(failure);
    }

    /// <summary>Moves everything that can move: posted results, guest packets, deadlines, packets for the guest.</summary>
    private void Pump()
    {
        while (_posted.TryDequeue(out var item))
            Handle(item);
        ServeTx();
        ExpireAccepts();
        FillRx();
        foreach (var queue in (ReadOnlySpan<Virtqueue>)[_protocol.Rx, _protocol.Tx])
        {
            // Read before the interrupt is signalled: the guest may answer before this thread runs again, and its answer
            // must never be timed shorter than it took.
            var signalled = Stopwatch.GetTimestamp();
            if (!queue.Notify())
                continue;
            Statistics.Calls[queue.Index]++;
            if (_unansweredCall == 0)
                _unansweredCall = signalled;
        }
    }

    /// <summary>Handles every message the front-end has sent; false when it closed the socket.</summary>
    private bool ServeFrontEnd()
    {
        while (true)
        {
            if (!_channel.TryReceive(out var message))
            {
                Log("the front-end closed the vhost-user socket");
                return false;
            }
            if (message is null)
                return true;
            using (message)
                _protocol.Handle(message);
        }
    }

    private void DrainKick(int fd)
    {
        foreach (var queue in (ReadOnlySpan<Virtqueue>)[_protocol.Rx, _protocol.Tx])
        {
            if (queue.Kick is not { } kick || kick.Value != fd)
                continue;
            var kicks = (long)NativeIo.Drain(kick);
            Statistics.Kicks[queue.Index] += kicks;
            if (kicks > 0 && _unansweredCall != 0)
            {
                Statistics.GuestTurnaround.AddSince(_unansweredCall);
                _unansweredCall = 0;
            }
        }
    }

    /// <summary>Releases everything: connections (their fabric ends closed), sockets waiting for the guest, memory, eventfds.</summary>
    private void Teardown()
    {
        _teardown.Cancel();
        foreach (var connection in _connections.Values.ToList())
            Close(connection, Errno.ECONNRESET);
        Interlocked.Exchange(ref _finished, 1);
        ReleasePosted();
        _protocol.Dispose();
        _wake.Dispose();
        _frontEnd.Dispose();
        _frontEndOwner?.Dispose();
        _teardown.Dispose();
    }

    private void Log(string line)
    {
        try
        {
            _log?.Invoke(line);
        }
        catch (Exception)
        {
            // A failing log must not stop the device.
        }
    }
}

/// <summary>The device's limits, validated by <see cref="VhostUserDeviceOptions"/>.</summary>
/// <param name="MaxConnections">Connections per guest, in every state.</param>
/// <param name="BufferSize">buf_alloc advertised to the guest for each connection.</param>
/// <param name="AcceptTimeout">How long an inbound connection waits for the guest's RESPONSE or RST.</param>
/// <param name="Log">One line per notable event, or null.</param>
internal sealed record DeviceSettings(int MaxConnections, uint BufferSize, TimeSpan AcceptTimeout, Action<string>? Log);
