using NetMQ;

namespace Vmci.TestKit;

/// <summary>
/// Assertions on the one error type, <see cref="VmciException"/>: the errno is the contract. Failures throw
/// <see cref="VmciAssertionException"/>, which names the expected and the actual errno and message. Any other exception
/// the operation throws (a test framework's skip, an assertion inside it, a bug) is not caught: it goes on as it is.
/// </summary>
public static class VmciAssert
{
    /// <summary>Asserts that <paramref name="action"/> throws a <see cref="VmciException"/> carrying <paramref name="errno"/>.</summary>
    /// <param name="errno">The expected errno.</param>
    /// <param name="action">The operation.</param>
    /// <returns>The exception, for further checks (operation, endpoint, message).</returns>
    /// <exception cref="VmciAssertionException">Nothing was thrown, or another errno.</exception>
    public static VmciException Throws(Errno errno, Action action)
    {
        ArgumentNullException.ThrowIfNull(action);
        try
        {
            action();
        }
        catch (VmciException e)
        {
            return Check(errno, e);
        }
        throw NothingThrown(errno);
    }

    /// <summary>Asserts that <paramref name="action"/> fails with a <see cref="VmciException"/> carrying <paramref name="errno"/>.</summary>
    /// <param name="errno">The expected errno.</param>
    /// <param name="action">The operation; guard it with a <see cref="Watchdog"/> when it may hang.</param>
    /// <returns>The exception, for further checks.</returns>
    /// <exception cref="VmciAssertionException">It completed, or failed with another errno.</exception>
    public static async Task<VmciException> ThrowsAsync(Errno errno, Func<Task> action)
    {
        ArgumentNullException.ThrowIfNull(action);
        try
        {
            await action().ConfigureAwait(false);
        }
        catch (VmciException e)
        {
            return Check(errno, e);
        }
        throw NothingThrown(errno);
    }

    /// <summary>
    /// Asserts that <paramref name="action"/> throws a NetMQ exception of type <typeparamref name="TException"/> (or a
    /// subtype) that carries the transport's <see cref="VmciException"/> with <paramref name="errno"/> as its inner
    /// exception and names the errno in its message, as the vmci transport's errors do.
    /// </summary>
    /// <typeparam name="TException">The NetMQ exception type, e.g. <see cref="EndpointNotFoundException"/>.</typeparam>
    /// <param name="errno">The expected errno of the inner exception.</param>
    /// <param name="action">The NetMQ call (<c>VmciBind</c>, <c>VmciUnbind</c>, an option, …).</param>
    /// <returns>The NetMQ exception.</returns>
    /// <exception cref="VmciAssertionException">Nothing was thrown, another NetMQ exception, or another errno.</exception>
    public static TException ThrowsNetMq<TException>(Errno errno, Action action)
        where TException : NetMQException
    {
        var e = ThrowsNetMq<TException>(action);
        if (e.InnerException is not VmciException inner)
            throw new VmciAssertionException($"expected {typeof(TException).Name} carrying {errno}, but it carries no VmciException: {e.Message}", e);
        if (inner.Errno != errno)
            throw new VmciAssertionException($"expected {typeof(TException).Name} carrying {errno}, got {inner.Errno}: {inner.Message}", e);
        if (!e.Message.Contains(errno.ToString(), StringComparison.Ordinal))
            throw new VmciAssertionException($"the message of {typeof(TException).Name} does not name {errno}: {e.Message}", e);
        return e;
    }

    /// <summary>
    /// Asserts that <paramref name="action"/> throws a NetMQ exception of type <typeparamref name="TException"/> (or a
    /// subtype), whatever it carries: for errors NetMQ raises itself (a scheme it does not know).
    /// </summary>
    /// <typeparam name="TException">The NetMQ exception type.</typeparam>
    /// <param name="action">The NetMQ call.</param>
    /// <returns>The NetMQ exception.</returns>
    /// <exception cref="VmciAssertionException">Nothing was thrown, or another NetMQ exception.</exception>
    public static TException ThrowsNetMq<TException>(Action action)
        where TException : NetMQException
    {
        ArgumentNullException.ThrowIfNull(action);
        try
        {
            action();
        }
        catch (TException e)
        {
            return e;
        }
        catch (NetMQException e)
        {
            throw new VmciAssertionException($"expected {typeof(TException).Name}, got {e.GetType().Name}: {e.Message}", e);
        }
        throw new VmciAssertionException($"expected {typeof(TException).Name}, but nothing was thrown");
    }

    private static VmciException Check(Errno errno, VmciException e)
    {
        if (e.Errno != errno)
            throw new VmciAssertionException($"expected {errno}, got {e.Errno}: {e.Message}", e);
        return e;
    }

    private static VmciAssertionException NothingThrown(Errno errno) =>
        new($"expected a VmciException with {errno}, but nothing was thrown");
}
