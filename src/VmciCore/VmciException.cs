namespace Vmci;

/// <summary>
/// The one error type of every vmci operation: the errno, the operation and the endpoint it concerned.
/// Created only by <see cref="VmciError"/>.
/// </summary>
public sealed class VmciException : IOException
{
    internal VmciException(Errno errno, VmciOperation operation, string? endpoint, string message, Exception? inner)
        : base(message, inner)
    {
        Errno = errno;
        Operation = operation;
        Endpoint = endpoint;
        HResult = (int)errno;
    }

    /// <summary>The errno, with its Linux number.</summary>
    public Errno Errno { get; }

    /// <summary>The operation that failed.</summary>
    public VmciOperation Operation { get; }

    /// <summary>The endpoint, address or path the operation concerned, as the caller gave it; null when there was none.</summary>
    public string? Endpoint { get; }
}
