using NetMQ;
using NetMQ.Sockets;

namespace Vmci.TestKit;

/// <summary>NetMQ sockets by their ZMQ type name (PAIR, PUB, …): what a test, a theory's data or the agent names.</summary>
public static class SocketTypes
{
    /// <summary>Every type name <see cref="Create"/> knows.</summary>
    public static IReadOnlyList<string> Names { get; } =
        ["PAIR", "PUB", "SUB", "XPUB", "XSUB", "REQ", "REP", "DEALER", "ROUTER", "PUSH", "PULL", "STREAM"];

    /// <summary>A new socket of type <paramref name="type"/> (upper case, as in zmq_socket(3)).</summary>
    /// <exception cref="ArgumentOutOfRangeException">When <paramref name="type"/> is not one of <see cref="Names"/>.</exception>
    public static NetMQSocket Create(string type) => type switch
    {
        "PAIR" => new PairSocket(),
        "PUB" => new PublisherSocket(),
        "SUB" => new SubscriberSocket(),
        "XPUB" => new XPublisherSocket(),
        "XSUB" => new XSubscriberSocket(),
        "REQ" => new RequestSocket(),
        "REP" => new ResponseSocket(),
        "DEALER" => new DealerSocket(),
        "ROUTER" => new RouterSocket(),
        "PUSH" => new PushSocket(),
        "PULL" => new PullSocket(),
        "STREAM" => new StreamSocket(),
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, $"not a socket type: one of {string.Join(", ", Names)}"),
    };
}
