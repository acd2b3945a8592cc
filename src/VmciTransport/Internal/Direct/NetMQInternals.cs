using System.Diagnostics.CodeAnalysis;
using System.Net.Sockets;
using System.Reflection;
using System.Runtime.CompilerServices;
using NetMQ;

namespace Vmci.Transport.Internal.Direct;

/// <summary>
/// THE one place that touches NetMQ 4.0.4.5 and AsyncIO 0.1.69 internals (and one internal of .NET's Socket). Every
/// member direct mode needs is resolved once, by name and signature, in <see cref="Resolve"/> — the startup self-check —
/// together with the two assembly versions (pinned in Directory.Packages.props). If anything is missing or different,
/// <see cref="Instance"/> is null, <see cref="Failure"/> says what, and the transport uses the relay instead. The methods
/// below are thin typed wrappers (NetMQInternals.Operations.cs); <see cref="DirectBind"/> and <see cref="DirectConnect"/> use
/// them as the "attach this connected stream socket" hook that NetMQ itself lacks.
/// Members are kept by the trimmer through the <see cref="DynamicDependencyAttribute"/>s on <see cref="Resolve"/>.
/// </summary>
internal sealed partial class NetMQInternals
{
    /// <summary>The NetMQ version these members were read from.</summary>
    public static readonly Version NetMQVersion = new(4, 0, 4, 5);

    /// <summary>The AsyncIO version these members were read from.</summary>
    public static readonly Version AsyncIOVersion = new(0, 1, 69, 0);

    private const BindingFlags Members = BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic;
    private const BindingFlags Statics = BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic;

    private static readonly string[] Watermarks = ["SendHighWatermark", "ReceiveHighWatermark", "SendLowWatermark", "ReceiveLowWatermark"];

    private static readonly Lazy<(NetMQInternals? Hook, string? Failure)> Result = new(Check, LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly FieldInfo _netmqSocketHandle;
    private readonly FieldInfo _threadSafeSocketHandle;
    private readonly FieldInfo _ownOptions;
    private readonly FieldInfo _ownTerminating;
    private readonly MethodInfo _launchChild;
    private readonly MethodInfo _incSeqnum;
    private readonly MethodInfo _termChild;
    private readonly MethodInfo _chooseIOThread;
    private readonly MethodInfo _sendAttach;
    private readonly MethodInfo _sendPlug;
    private readonly MethodInfo _sessionCreate;
    private readonly MethodInfo _sessionAttachPipe;
    private readonly MethodInfo _socketAttachPipe;
    private readonly MethodInfo _processCommands;
    private readonly MethodInfo _lock;
    private readonly MethodInfo _unlock;
    private readonly MethodInfo _checkDisposed;
    private readonly MethodInfo _eventAccepted;
    private readonly MethodInfo _eventConnected;
    private readonly MethodInfo _pipePair;
    private readonly MethodInfo _pipeTerminate;
    private readonly Type _zobjectArray;
    private readonly ConstructorInfo _address;
    private readonly ConstructorInfo _streamEngine;
    private readonly FieldInfo _engineMechanism;
    private readonly FieldInfo _engineState;
    private readonly object _engineActive;
    private readonly PropertyInfo _mechanismStatus;
    private readonly object _mechanismReady;
    private readonly PropertyInfo _affinity;
    private readonly PropertyInfo _delayAttachOnConnect;
    private readonly PropertyInfo _socketType;
    private readonly PropertyInfo _rawSocket;
    private readonly PropertyInfo _lastEndpoint;
    private readonly PropertyInfo[] _watermarks;
    private readonly ConstructorInfo _nativeSocket;
    private readonly FieldInfo _nativeIn;
    private readonly FieldInfo _nativeOut;
    private readonly MethodInfo _nativeCompleted;
    private readonly FieldInfo _nativePort;
    private readonly MethodInfo _portQueue;

    /// <summary>The adapter, or null when direct mode is unavailable (see <see cref="Failure"/>).</summary>
    public static NetMQInternals? Instance => Result.Value.Hook;

    /// <summary>Why direct mode is unavailable, or null when it is available.</summary>
    public static string? Failure => Result.Value.Failure;

    private static (NetMQInternals?, string?) Check()
    {
        try
        {
            if (!OperatingSystem.IsLinux())
                return (null, "direct mode needs Linux (NetMQ's managed completion port and Unix domain socket pairs)");
            return (new NetMQInternals(), null);
        }
        catch (Exception e) when (e is MissingMemberException or TypeLoadException or InvalidOperationException or FileNotFoundException
            or FileLoadException or ArgumentException or NotSupportedException)
        {
            return (null, e.Message);
        }
    }

    [DynamicDependency(DynamicallyAccessedMemberTypes.All, typeof(NetMQSocket))]
    [DynamicDependency(DynamicallyAccessedMemberTypes.All, typeof(ThreadSafeSocket))]
    [DynamicDependency(DynamicallyAccessedMemberTypes.All, "NetMQ.Core.Own", "NetMQ")]
    [DynamicDependency(DynamicallyAccessedMemberTypes.All, "NetMQ.Core.ZObject", "NetMQ")]
    [DynamicDependency(DynamicallyAccessedMemberTypes.All, "NetMQ.Core.SocketBase", "NetMQ")]
    [DynamicDependency(DynamicallyAccessedMemberTypes.All, "NetMQ.Core.SessionBase", "NetMQ")]
    [DynamicDependency(DynamicallyAccessedMemberTypes.All, "NetMQ.Core.Pipe", "NetMQ")]
    [DynamicDependency(DynamicallyAccessedMemberTypes.All, "NetMQ.Core.Address", "NetMQ")]
    [DynamicDependency(DynamicallyAccessedMemberTypes.All, "NetMQ.Core.Options", "NetMQ")]
    [DynamicDependency(DynamicallyAccessedMemberTypes.All, "NetMQ.Core.Transports.StreamEngine", "NetMQ")]
    [DynamicDependency(DynamicallyAccessedMemberTypes.All, "NetMQ.Core.Mechanisms.Mechanism", "NetMQ")]
    [DynamicDependency(DynamicallyAccessedMemberTypes.All, "AsyncIO.DotNet.NativeSocket", "AsyncIO")]
    [DynamicDependency(DynamicallyAccessedMemberTypes.All, "AsyncIO.DotNet.CompletionPort", "AsyncIO")]
    private NetMQInternals()
    {
        if (VersionMismatch("NetMQ", typeof(NetMQSocket).Assembly.GetName().Version, NetMQVersion) is { } netmqMismatch)
            throw new InvalidOperationException(netmqMismatch);
        var own = Resolve("NetMQ.Core.Own, NetMQ");
        var zobject = Resolve("NetMQ.Core.ZObject, NetMQ");
        var socketBase = Resolve("NetMQ.Core.SocketBase, NetMQ");
        var session = Resolve("NetMQ.Core.SessionBase, NetMQ");
        var pipe = Resolve("NetMQ.Core.Pipe, NetMQ");
        var address = Resolve("NetMQ.Core.Address, NetMQ");
        var options = Resolve("NetMQ.Core.Options, NetMQ");
        var ioThread = Resolve("NetMQ.Core.IOThread, NetMQ");
        var engineInterface = Resolve("NetMQ.Core.Transports.IEngine, NetMQ");
        var engine = Resolve("NetMQ.Core.Transports.StreamEngine, NetMQ");
        var mechanism = Resolve("NetMQ.Core.Mechanisms.Mechanism, NetMQ");
        var native = Resolve("AsyncIO.DotNet.NativeSocket, AsyncIO");
        if (VersionMismatch("AsyncIO", native.Assembly.GetName().Version, AsyncIOVersion) is { } asyncioMismatch)
            throw new InvalidOperationException(asyncioMismatch);
        var asyncSocket = native.BaseType ?? throw new MissingMemberException("AsyncIO.DotNet.NativeSocket has no base type");

        _netmqSocketHandle = Field(typeof(NetMQSocket), "m_socketHandle", socketBase);
        _threadSafeSocketHandle = Field(typeof(ThreadSafeSocket), "m_socketHandle", socketBase);
        _ownOptions = Field(own, "m_options", options);
        _ownTerminating = Field(own, "m_terminating", typeof(bool));
        _launchChild = Method(own, "LaunchChild", typeof(void), own);
        _incSeqnum = Method(own, "IncSeqnum", typeof(void));
        _termChild = Method(own, "TermChild", typeof(void), own);
        _chooseIOThread = Method(zobject, "ChooseIOThread", ioThread, typeof(long));
        _sendAttach = Method(zobject, "SendAttach", typeof(void), session, engineInterface, typeof(bool));
        _sendPlug = Method(zobject, "SendPlug", typeof(void), own, typeof(bool));
        _sessionCreate = Method(session, "Create", session, ioThread, typeof(bool), socketBase, options, address);
        _sessionAttachPipe = Method(session, "AttachPipe", typeof(void), pipe);
        _socketAttachPipe = Method(socketBase, "AttachPipe", typeof(void), pipe, typeof(bool));
        _processCommands = Method(socketBase, "ProcessCommands", typeof(void), typeof(int), typeof(bool), typeof(CancellationToken));
        _lock = Method(socketBase, "Lock", typeof(void));
        _unlock = Method(socketBase, "Unlock", typeof(void));
        _checkDisposed = Method(socketBase, "CheckDisposed", typeof(void));
        _eventAccepted = Method(socketBase, "EventAccepted", typeof(void), typeof(string), asyncSocket);
        _eventConnected = Method(socketBase, "EventConnected", typeof(void), typeof(string), asyncSocket);
        _zobjectArray = Resolve("NetMQ.Core.ZObject[], NetMQ");
        _pipePair = Method(pipe, "PipePair", Resolve("NetMQ.Core.Pipe[], NetMQ"), _zobjectArray, typeof(int[]), typeof(int[]));
        _pipeTerminate = Method(pipe, "Terminate", typeof(void), typeof(bool));
        _address = Constructor(address, typeof(string), typeof(string));
        _streamEngine = Constructor(engine, asyncSocket, options, typeof(string));
        _engineMechanism = Field(engine, "m_mechanism", mechanism);
        _engineState = Field(engine, "m_state", null);
        _engineActive = EnumValue(_engineState.FieldType, "Active");
        _mechanismStatus = Property(mechanism, "Status", null);
        _mechanismReady = EnumValue(_mechanismStatus.PropertyType, "Ready");
        _affinity = Property(options, "Affinity", typeof(long));
        _delayAttachOnConnect = Property(options, "DelayAttachOnConnect", typeof(bool));
        _socketType = Property(options, "SocketType", typeof(ZmqSocketType));
        _rawSocket = Property(options, "RawSocket", typeof(bool));
        _lastEndpoint = Property(options, "LastEndpoint", typeof(string));
        _watermarks = [.. Watermarks.Select(n => Property(options, n, typeof(int)))];
        _nativeSocket = Constructor(native, typeof(Socket));
        _nativeIn = Field(native, "m_inSocketAsyncEventArgs", typeof(SocketAsyncEventArgs));
        _nativeOut = Field(native, "m_outSocketAsyncEventArgs", typeof(SocketAsyncEventArgs));
        _nativeCompleted = Method(native, "OnAsyncCompleted", typeof(void), typeof(object), typeof(SocketAsyncEventArgs));
        var port = Resolve("AsyncIO.DotNet.CompletionPort, AsyncIO");
        _nativePort = Field(native, "m_completionPort", port);
        _portQueue = Method(port, "Queue", typeof(void), typeof(AsyncIO.CompletionStatus).MakeByRefType());
        // .NET's inline completions (an internal of Socket): checked here, used through UnsafeAccessor.
        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        SetPreferInlineCompletions(probe, true);
    }

    /// <summary>
    /// Asks .NET to run <paramref name="socket"/>'s completions on its epoll thread instead of dispatching them to the
    /// thread pool (one thread hand-off fewer per operation). For code that never blocks in a completion: NativeSocket
    /// (it only queues to NetMQ's I/O thread) and the relay's pumps. A no-op when the runtime lacks the internal.
    /// </summary>
    public static void PreferInlineCompletions(Socket socket)
    {
        try
        {
            SetPreferInlineCompletions(socket, true);
        }
        catch (MissingMethodException)
        {
            // Another runtime: completions go through the thread pool as usual.
        }
    }

    /// <summary>Why <paramref name="loaded"/> is not usable, or null when it is the version the members were read from.</summary>
    internal static string? VersionMismatch(string assembly, Version? loaded, Version expected) => loaded == expected ? null
        : $"{assembly} {loaded?.ToString() ?? "(no version)"} is loaded; direct mode was built and checked against {assembly} {expected}";

    [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "set_PreferInlineCompletions")]
    private static extern void SetPreferInlineCompletions(Socket socket, bool value);

    [return: DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.All)]
    private static Type Resolve([DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.All)] string name) =>
        Type.GetType(name, throwOnError: false) ?? throw new MissingMemberException($"type {name} not found");

    private static FieldInfo Field([DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicFields | DynamicallyAccessedMemberTypes.NonPublicFields)] Type type, string name, Type? fieldType)
    {
        var field = type.GetField(name, Members) ?? throw new MissingMemberException($"{type.FullName}.{name} not found");
        return fieldType is null || field.FieldType == fieldType ? field
            : throw new MissingMemberException($"{type.FullName}.{name} is a {field.FieldType.Name}, not a {fieldType.Name}");
    }

    private static PropertyInfo Property([DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicProperties | DynamicallyAccessedMemberTypes.NonPublicProperties)] Type type, string name, Type? propertyType)
    {
        var property = type.GetProperty(name, Members) ?? throw new MissingMemberException($"{type.FullName}.{name} not found");
        return propertyType is null || property.PropertyType == propertyType ? property
            : throw new MissingMemberException($"{type.FullName}.{name} is a {property.PropertyType.Name}, not a {propertyType.Name}");
    }

    private static MethodInfo Method([DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicMethods | DynamicallyAccessedMemberTypes.NonPublicMethods)] Type type, string name, Type returnType, params Type[] parameters)
    {
        var method = type.GetMethod(name, Members | Statics, binder: null, parameters, modifiers: null)
            ?? throw new MissingMemberException($"{type.FullName}.{name}({string.Join(", ", parameters.Select(p => p.Name))}) not found");
        return method.ReturnType == returnType ? method
            : throw new MissingMemberException($"{type.FullName}.{name} returns {method.ReturnType.Name}, not {returnType.Name}");
    }

    private static ConstructorInfo Constructor([DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors | DynamicallyAccessedMemberTypes.NonPublicConstructors)] Type type, params Type[] parameters) =>
        type.GetConstructor(Members, binder: null, parameters, modifiers: null)
        ?? throw new MissingMemberException($"{type.FullName}({string.Join(", ", parameters.Select(p => p.Name))}) not found");

    private static object EnumValue(Type type, string name) =>
        type.IsEnum && Enum.GetNames(type).Contains(name) ? Enum.Parse(type, name)
            : throw new MissingMemberException($"{type.FullName}.{name} not found");
}
