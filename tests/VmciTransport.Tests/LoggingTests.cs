using Microsoft.Extensions.Logging;
using NetMQ;
using NetMQ.Sockets;
using Vmci.TestKit;

namespace Vmci.Transport.Tests;

/// <summary>The transport's log (Microsoft.Extensions.Logging, off by default): modes, connect attempts with their errno, reconnects, refusals.</summary>
[Collection(nameof(LoggingTests))] // sets the process-wide factory
[CollectionDefinition(nameof(LoggingTests), DisableParallelization = true)]
public sealed class LoggingTests : IDisposable
{
    private readonly Fabric _fabric = new();
    private readonly Capture _capture = new();
    private readonly ILoggerFactory _previous = VmciLogging.LoggerFactory;

    public LoggingTests()
    {
        VmciLogging.LoggerFactory = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Debug).AddProvider(_capture));
    }

    [Fact]
    public void ConnectBeforeBind_LogsModeFailedAttemptsWithErrnoThenConnected()
    {
        var client = _fabric.Socket(new PushSocket(), _fabric.Guest);
        var probe = _fabric.Socket(new PullSocket());
        probe.VmciBind("vmci://*:*");
        var bound = probe.VmciLastEndpoint()!;
        probe.VmciUnbind(bound);
        var target = Fabric.ToHost(bound);

        client.VmciConnect(target);
        _fabric.Watchdog.Until(() => _capture.Has($"connect attempt 2 to {target} failed: ECONNRESET"), "two failed attempts were logged");
        var server = _fabric.Socket(new PullSocket());
        server.VmciBind(bound);
        client.SendFrame("late");
        Assert.Equal("late", Delivery.ReceiveString(server));

        Assert.True(_capture.Has($"connecting to {target} in {VmciTransport.Mode} mode"), _capture.Text);
        Assert.True(_capture.Has($"bound {bound} ({bound}) in {VmciTransport.Mode} mode"), _capture.Text);
        _fabric.Watchdog.Until(() => _capture.Has($"connected to {target} (attempt "), "the connection was logged");
        Assert.Contains(_capture.Entries, e => e.Category == "Vmci.Transport" && e.Level == LogLevel.Debug && e.Message.Contains("ECONNRESET", StringComparison.Ordinal));
    }

    [Fact]
    public void ConnectionBeyondTheCap_LoggedAsRefusedWithThePeer()
    {
        var server = _fabric.Socket(new PullSocket());
        server.VmciOptions().MaxConnections = 1;
        var bound = _fabric.Link(server, _fabric.Socket(new PushSocket()));
        var second = _fabric.Socket(new PushSocket(), _fabric.Guest);
        second.VmciConnect(Fabric.ToHost(bound));

        // The simulator refuses during its handshake (the peer sees a full backlog), so the log has no peer address.
        _fabric.Watchdog.Until(() => _capture.Has($"{bound} refused a connection during the handshake"), "the refusal was logged");
        Assert.Contains(_capture.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains("MaxConnections", StringComparison.Ordinal));
    }

    [Fact]
    public void NoFactory_NothingIsLogged()
    {
        VmciLogging.LoggerFactory = Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance;
        var server = _fabric.Socket(new PullSocket());
        var client = _fabric.Socket(new PushSocket());
        _fabric.Link(server, client);
        client.SendFrame("quiet");
        Assert.Equal("quiet", Delivery.ReceiveString(server));

        Assert.Empty(_capture.Entries);
        Assert.False(VmciLogging.IsEnabled);
    }

    public void Dispose()
    {
        _fabric.Dispose();
        VmciLogging.LoggerFactory = _previous;
    }

    /// <summary>Every entry logged, in order, for the assertions.</summary>
    private sealed class Capture : ILoggerProvider
    {
        private readonly List<(string Category, LogLevel Level, string Message)> _entries = [];

        public IReadOnlyList<(string Category, LogLevel Level, string Message)> Entries
        {
            get
            {
                lock (_entries)
                    return [.. _entries];
            }
        }

        public string Text => string.Join("\n", Entries.Select(e => $"{e.Category} {e.Level}: {e.Message}"));

        public bool Has(string text) => Entries.Any(e => e.Message.Contains(text, StringComparison.Ordinal));

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void Dispose()
        {
        }

        private sealed class Logger(Capture capture, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                lock (capture._entries)
                    capture._entries.Add((category, logLevel, formatter(state, exception)));
            }
        }
    }
}
