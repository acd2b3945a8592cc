using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Vmci;

/// <summary>
/// Where the transport, the simulator and the kernel backend log (Microsoft.Extensions.Logging): connect attempts and
/// their errno, the transport mode of each bind and connect, reconnects, refused connections. Off by default (a null
/// factory); an application turns it on with its own factory, e.g. <c>VmciLogging.LoggerFactory = LoggerFactory.Create(b =&gt; b.AddConsole())</c>,
/// and the <c>vmci</c> tool with <c>-v</c>. Categories: <c>Vmci.Transport</c> (modes, attempts, reconnects, refusals, background failures) and <c>Vmci.Sim</c> (failed connects, pruned entries).
/// </summary>
public static class VmciLogging
{
    private static ILoggerFactory s_factory = NullLoggerFactory.Instance;
    private static int s_version;

    /// <summary>The factory every vmci logger comes from. Setting it takes effect for loggers asked for afterwards and for the library's own (they are re-made).</summary>
    public static ILoggerFactory LoggerFactory
    {
        get => Volatile.Read(ref s_factory);
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            Volatile.Write(ref s_factory, value);
            Interlocked.Increment(ref s_version);
        }
    }

    /// <summary>True when a factory other than the null one is set.</summary>
    public static bool IsEnabled => LoggerFactory is not NullLoggerFactory;

    /// <summary>A logger of <paramref name="category"/> that follows <see cref="LoggerFactory"/> when it is replaced (the vmci libraries keep theirs in static fields).</summary>
    /// <param name="category">The category, e.g. <c>Vmci.Transport</c>.</param>
    /// <returns>The logger.</returns>
    public static ILogger CreateLogger(string category)
    {
        ArgumentException.ThrowIfNullOrEmpty(category);
        return new Following(category);
    }

    /// <summary>Re-makes its logger from the current factory when the factory has changed since.</summary>
    private sealed class Following(string category) : ILogger
    {
        private ILogger _logger = NullLogger.Instance;
        private int _version = -1;

        private ILogger Current
        {
            get
            {
                var version = Volatile.Read(ref s_version);
                if (version != _version)
                {
                    _logger = Volatile.Read(ref s_factory).CreateLogger(category);
                    _version = version;
                }
                return _logger;
            }
        }

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => Current.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => Current.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Current.Log(logLevel, eventId, state, exception, formatter);
    }
}
