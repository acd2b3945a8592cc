using System.Diagnostics;
using System.Text.Json;

namespace Vmci.Cli.Conformance;

/// <summary>
/// Runs the conformance suite — the xUnit v3 executable built from tests/Conformance, shipped beside this tool in
/// <c>conformance/</c> — as a child process with <c>-reporter json</c>, and turns its message stream into
/// <see cref="CaseResult"/>s as each case finishes.
/// </summary>
internal sealed class SuiteProcess
{
    /// <summary>Overrides where the suite is looked for: a path to Conformance.dll or to the Conformance executable.</summary>
    public const string SuiteVariable = "VMCI_CONFORMANCE_SUITE";

    private readonly string _suite;

    private SuiteProcess(string suite) => _suite = suite;

    /// <summary>Finds the suite: <paramref name="explicitPath"/>, then <see cref="SuiteVariable"/>, then <c>conformance/</c> beside this tool.</summary>
    /// <exception cref="FileNotFoundException">Nothing found; the message says where it looked.</exception>
    public static SuiteProcess Locate(string? explicitPath)
    {
        var candidates = new[]
        {
            explicitPath,
            Environment.GetEnvironmentVariable(SuiteVariable),
            Path.Combine(AppContext.BaseDirectory, "conformance", "Conformance.dll"),
        };
        foreach (var candidate in candidates)
        {
            if (!string.IsNullOrEmpty(candidate) && File.Exists(candidate))
                return new SuiteProcess(Path.GetFullPath(candidate));
        }
        throw new FileNotFoundException(
            $"the conformance suite was not found (looked at --suite, ${SuiteVariable} and {candidates[2]}); build src/VmciCli, which copies it there");
    }

    /// <summary>
    /// Runs the suite's leaf <paramref name="leaf"/> (its leaves carry <c>[Trait("Backend", …)]</c>: <c>sim</c>,
    /// <c>vsock</c>, or <c>peer</c> for the two-machine cases against an agent) on <paramref name="backend"/>, with
    /// <paramref name="environment"/> added to the suite's; calls <paramref name="onTotal"/> once the suite knows how many
    /// cases it will run and <paramref name="onCase"/> as each case finishes.
    /// </summary>
    /// <returns>The suite's exit code.</returns>
    public async Task<int> RunAsync(string backend, string leaf, string? junitPath, string? filter, IReadOnlyDictionary<string, string> environment,
        Action<int> onTotal, Action<CaseResult> onCase, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (_suite.EndsWith(".dll", StringComparison.OrdinalIgnoreCase))
        {
            start.FileName = Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet" ? self : "dotnet";
            start.ArgumentList.Add("exec");
        }
        else
        {
            start.FileName = _suite;
        }
        if (start.FileName != _suite)
            start.ArgumentList.Add(_suite);
        // -preEnumerateTheories: the count discovery reports is then the count of cases that finish (the progress bar's end).
        foreach (var arg in new[] { "-reporter", "json", "-noColor", "-noAutoReporters", "-preEnumerateTheories" })
            start.ArgumentList.Add(arg);
        if (junitPath is not null)
        {
            start.ArgumentList.Add("-result-junit");
            start.ArgumentList.Add(Path.GetFullPath(junitPath));
        }
        start.ArgumentList.Add("-trait");
        start.ArgumentList.Add($"Backend={leaf}");
        if (filter is not null)
        {
            start.ArgumentList.Add("-method");
            start.ArgumentList.Add(filter);
        }
        start.Environment["VMCI_BACKEND"] = backend;
        foreach (var (name, value) in environment)
            start.Environment[name] = value;

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {start.FileName}");
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        var parser = new MessageParser(onCase, onTotal);
        try
        {
            while (await process.StandardOutput.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
                parser.Accept(line);
            await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        var errors = await stderr.ConfigureAwait(false);
        if (process.ExitCode != 0 && parser.Finished == 0)
            throw new InvalidOperationException($"the conformance suite exited with {process.ExitCode} before running a case: {errors.Trim()}");
        return process.ExitCode;
    }

    /// <summary>Turns xUnit v3 JSON reporter lines into finished cases.</summary>
    internal sealed class MessageParser(Action<CaseResult> onCase, Action<int>? onTotal = null)
    {
        private readonly Dictionary<string, (string Name, string Clause)> _cases = [];
        private readonly Dictionary<string, string> _testCase = [];

        public int Finished { get; private set; }

        public void Accept(string line)
        {
            var start = line.IndexOf('{', StringComparison.Ordinal);
            if (start < 0)
                return;
            using var doc = JsonDocument.Parse(line.AsMemory(start));
            var m = doc.RootElement;
            switch (m.GetProperty("$type").GetString())
            {
                case "discovery-complete":
                    if (m.TryGetProperty("TestCasesToRun", out var total) && total.TryGetInt32(out var count))
                        onTotal?.Invoke(count);
                    break;
                case "test-case-starting":
                    _cases[m.GetProperty("TestCaseUniqueID").GetString()!] = (ShortName(m.GetProperty("TestCaseDisplayName").GetString()!), Clause(m));
                    break;
                case "test-starting":
                    _testCase[m.GetProperty("TestUniqueID").GetString()!] = m.GetProperty("TestCaseUniqueID").GetString()!;
                    if (m.TryGetProperty("TestDisplayName", out var display) && _cases.TryGetValue(m.GetProperty("TestCaseUniqueID").GetString()!, out var known))
                        _cases[m.GetProperty("TestCaseUniqueID").GetString()!] = known with { Name = ShortName(display.GetString()!) };
                    break;
                case "test-passed":
                    Finish(m, Outcome.Passed, null);
                    break;
                case "test-failed":
                    Finish(m, Outcome.Failed, string.Join(" ", Strings(m, "Messages")).Trim());
                    break;
                case "test-skipped":
                    Finish(m, Outcome.Skipped, m.TryGetProperty("Reason", out var reason) ? reason.GetString() : null);
                    break;
                case "test-not-run":
                    break;
                default:
                    break;
            }
        }

        private void Finish(JsonElement m, Outcome outcome, string? message)
        {
            var id = m.GetProperty("TestCaseUniqueID").GetString()!;
            var (name, clause) = _cases.TryGetValue(id, out var c) ? c : (id, "-");
            var seconds = m.TryGetProperty("ExecutionTime", out var t) ? t.GetDecimal() : 0m;
            Finished++;
            onCase(new CaseResult(name, clause, outcome, TimeSpan.FromSeconds((double)seconds), message));
        }

        private static string Clause(JsonElement m)
        {
            if (m.TryGetProperty("Traits", out var traits) && traits.ValueKind == JsonValueKind.Object &&
                traits.TryGetProperty("Spec", out var spec) && spec.ValueKind == JsonValueKind.Array && spec.GetArrayLength() > 0)
                return string.Join(",", spec.EnumerateArray().Select(s => s.GetString()));
            return "-";
        }

        private static IEnumerable<string> Strings(JsonElement m, string property) =>
            m.TryGetProperty(property, out var arr) && arr.ValueKind == JsonValueKind.Array
                ? arr.EnumerateArray().Select(e => e.GetString() ?? "")
                : [];

        /// <summary>Drops the namespace: <c>Conformance.NetMq.SimBindTests.Bind_X(...)</c> becomes <c>SimBindTests.Bind_X(...)</c>.</summary>
        internal static string ShortName(string display)
        {
            var paren = display.IndexOf('(', StringComparison.Ordinal);
            var head = paren < 0 ? display : display[..paren];
            var dots = head.Split('.');
            var keep = dots.Length >= 2 ? $"{dots[^2]}.{dots[^1]}" : head;
            return paren < 0 ? keep : keep + display[paren..];
        }
    }
}
