namespace Vmci;

/// <summary>
/// The one error type of every vmci operation: the errno, the operation and the endpoint it concerned.
/// Created only by <see cref="VmciError.Create"/>.
/// </summary>
public sealed class VmciException : IOException
{
    internal VmciException(Errno errno, string operation, string? endpoint, string message, Exception? inner)
        : base(message, inner)
    {
        Errno = errno;
        Operation = operation;
        Endpoint = endpoint;
        HResult = (int)errno;
    }

    /// <summary>The errno, with its Linux number.</summary>
    public Errno Errno { get; }

    /// <summary>The operation that failed: <c>parse</c>, <c>bind</c>, <c>connect</c>, <c>accept</c>, <c>send</c>, …</summary>
    public string Operation { get; }

    /// <summary>The endpoint or address the operation concerned, as the caller gave it; null when there was none.</summary>
    public string? Endpoint { get; }
}
