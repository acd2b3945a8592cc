using System.CommandLine;
using Microsoft.Extensions.Logging;

namespace Vmci.Cli.Shell;

/// <summary>
/// <c>-v</c>/<c>--verbose</c>, on every command: the transport's and the simulator's log (connect attempts and their
/// errno, the mode of each bind and connect, reconnects, refusals) on standard error, one line an event; and for
/// <c>conformance</c>, every case in the report. Off by default.
/// </summary>
internal static class Verbosity
{
    public static readonly Option<bool> Option = new("--verbose", "-v")
    {
        Description = "log connect attempts, modes, reconnects and refusals on standard error (conformance: also list every case)",
        Recursive = true,
    };

    /// <summary>Turns the log on when <c>-v</c> was given; the returned factory is flushed and closed when disposed.</summary>
    public static ILoggerFactory? Apply(ParseResult parse)
    {
        if (!parse.GetValue(Option))
            return null;
        var factory = LoggerFactory.Create(builder => builder
            .SetMinimumLevel(LogLevel.Debug)
            .AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss.fff ";
            })
            .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace));
        VmciLogging.LoggerFactory = factory;
        return factory;
    }
}
