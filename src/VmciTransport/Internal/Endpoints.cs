namespace Vmci.Transport.Internal;

/// <summary>One vmci bind or connect of a NetMQ socket, in either mode (<see cref="Direct.DirectBind"/>, <see cref="BindRelay"/>, ...).</summary>
internal interface IEndpoint : IDisposable
{
    /// <summary>How its connections reach NetMQ.</summary>
    VmciTransportMode Mode { get; }

    /// <summary>Its live connections.</summary>
    int ConnectionCount { get; }

    /// <summary>The seam connections of its live connections (tests read their options back).</summary>
    IVsockConnection[] Connections { get; }

    /// <summary>Unbind or disconnect, on the socket's thread. For a bind the port is free when it returns.</summary>
    void Close(SocketFacade socket);

    /// <summary>
    /// The NetMQ socket was disposed (or collected). Called by the sweeper on every tick until it returns true: the
    /// endpoint has finished (listener closed, lingering connections done, NetMQ released).
    /// </summary>
    bool OnSocketGone();

    // Dispose: stops at once — listener, loops, connections — without telling NetMQ (failure paths, tests).
}

/// <summary>An endpoint whose teardown after the socket's disposal lasts the socket's linger (SPEC §8).</summary>
internal interface ILingering
{
    /// <summary>The socket's linger when it was disposed (a program commonly sets it just before Dispose), given before the first <see cref="IEndpoint.OnSocketGone"/>.</summary>
    void SetLinger(TimeSpan linger);
}

/// <summary>A vmci bind.</summary>
internal interface IBindEndpoint : IEndpoint
{
    /// <summary>The address the listener really bound.</summary>
    VsockAddress LocalAddress { get; }

    /// <summary>Connections refused because the bind held <see cref="VmciSocketOptions.MaxConnections"/> already.</summary>
    int Refused { get; }

    /// <summary>Connections closed because their peer did not complete the ZMTP handshake within <see cref="VmciSocketOptions.HandshakeTimeout"/>.</summary>
    int HandshakeTimeouts { get; }

    /// <summary>Handshake deadlines that have passed, whether the peer had made it or not (diagnostics, tests).</summary>
    int HandshakeDeadlines { get; }

    /// <summary>Closes the listener at once (the port is free); the rest of the teardown follows in <see cref="IEndpoint.OnSocketGone"/>.</summary>
    void CloseListener();
}

/// <summary>A vmci connect.</summary>
internal interface IConnectEndpoint : IEndpoint
{
    /// <summary>The address connections go to.</summary>
    VsockAddress Remote { get; }

    /// <summary>Connect attempts so far.</summary>
    int Attempts { get; }

    /// <summary>The error of the last failed attempt, if any.</summary>
    VmciException? LastError { get; }

    /// <summary>True once an attempt failed and the reconnect interval (-1) forbids another.</summary>
    bool GaveUp { get; }
}

/// <summary>The limits of one bind or connect, copied from the socket's <see cref="VmciSocketOptions"/> when it is made.</summary>
/// <param name="MaxConnections">The cap on accepted connections of a bind.</param>
/// <param name="HandshakeTimeout">How long a peer may take to complete the ZMTP handshake; zero: no bound.</param>
internal readonly record struct EndpointLimits(int MaxConnections, TimeSpan HandshakeTimeout);
