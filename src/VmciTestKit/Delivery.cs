using NetMQ;

namespace Vmci.TestKit;

/// <summary>
/// NetMQ receives that fail instead of hanging: each waits at most its timeout, then throws
/// <see cref="VmciAssertionException"/> naming what did not arrive.
/// </summary>
public static class Delivery
{
    private static readonly TimeSpan Retry = TimeSpan.FromMilliseconds(50);

    /// <summary>Receives one multipart message.</summary>
    /// <param name="socket">The socket.</param>
    /// <param name="timeout">How long to wait, or null for the default.</param>
    /// <returns>The message.</returns>
    /// <remarks>The timeout defaults to <see cref="Watchdog.DefaultTimeout"/>.</remarks>
    /// <exception cref="VmciAssertionException">No message within the timeout.</exception>
    public static NetMQMessage Receive(NetMQSocket socket, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(socket);
        NetMQMessage? message = null;
        var limit = timeout ?? Watchdog.DefaultTimeout;
        if (!socket.TryReceiveMultipartMessage(limit, ref message))
            throw NotArrived("no message", limit);
        return message!;
    }

    /// <summary>Receives one frame as a UTF-8 string.</summary>
    /// <param name="socket">The socket.</param>
    /// <param name="timeout">How long to wait, or null for the default.</param>
    /// <returns>The frame's text.</returns>
    /// <remarks>The timeout defaults to <see cref="Watchdog.DefaultTimeout"/>.</remarks>
    /// <exception cref="VmciAssertionException">No frame within the timeout.</exception>
    public static string ReceiveString(NetMQSocket socket, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(socket);
        var limit = timeout ?? Watchdog.DefaultTimeout;
        if (!socket.TryReceiveFrameString(limit, out var text))
            throw NotArrived("no frame", limit);
        return text!;
    }

    /// <summary>Receives one frame as bytes.</summary>
    /// <param name="socket">The socket.</param>
    /// <param name="timeout">How long to wait, or null for the default.</param>
    /// <returns>The frame's bytes.</returns>
    /// <remarks>The timeout defaults to <see cref="Watchdog.DefaultTimeout"/>.</remarks>
    /// <exception cref="VmciAssertionException">No frame within the timeout.</exception>
    public static byte[] ReceiveBytes(NetMQSocket socket, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(socket);
        var limit = timeout ?? Watchdog.DefaultTimeout;
        if (!socket.TryReceiveFrameBytes(limit, out var bytes))
            throw NotArrived("no frame", limit);
        return bytes!;
    }

    /// <summary>
    /// Sends <paramref name="text"/> from <paramref name="sender"/> every 50 ms until <paramref name="receiver"/> gets it:
    /// for a path that is being re-established, where a message sent into the dying connection is lost (as over tcp).
    /// </summary>
    /// <param name="sender">The sending socket.</param>
    /// <param name="receiver">The receiving socket.</param>
    /// <param name="text">The one-frame message; what arrives must equal it.</param>
    /// <param name="timeout">How long to keep trying, or null for the default.</param>
    /// <remarks>The timeout defaults to <see cref="Watchdog.DefaultTimeout"/>.</remarks>
    /// <exception cref="VmciAssertionException">Nothing arrived within the timeout, or something else arrived.</exception>
    public static void Eventually(NetMQSocket sender, NetMQSocket receiver, string text, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(sender);
        ArgumentNullException.ThrowIfNull(receiver);
        var limit = timeout ?? Watchdog.DefaultTimeout;
        var deadline = DateTime.UtcNow + limit;
        while (DateTime.UtcNow < deadline)
        {
            sender.TrySendFrame(Retry, text);
            if (receiver.TryReceiveFrameString(Retry, out var got))
            {
                if (got != text)
                    throw new VmciAssertionException($"expected '{text}', received '{got}'");
                return;
            }
        }
        throw NotArrived($"'{text}' was not delivered", limit);
    }

    private static VmciAssertionException NotArrived(string what, TimeSpan limit) =>
        new(FormattableString.Invariant($"{what} within {limit.TotalSeconds:0.###} s"));
}
