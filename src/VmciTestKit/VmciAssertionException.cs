using Vmci.TestKit.Internal;

namespace Vmci.TestKit;

/// <summary>
/// What every check of the kit throws when it fails: a wrong errno, a message that did not arrive, a watchdog that
/// expired, a peer process that ended early. Any test framework reports it as a failed test; xUnit.net v3 reports it
/// as an assertion failure.
/// </summary>
public sealed class VmciAssertionException : Exception, IAssertionException
{
    /// <summary>Creates the exception with no message.</summary>
    public VmciAssertionException()
    {
    }

    /// <summary>Creates the exception with a message that says what was expected and what happened.</summary>
    /// <param name="message">The failure, in words.</param>
    public VmciAssertionException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the exception that was observed instead.</summary>
    /// <param name="message">The failure, in words.</param>
    /// <param name="innerException">The exception that was thrown instead of the expected outcome.</param>
    public VmciAssertionException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
