using System.Diagnostics;
using System.Globalization;
using System.Text;
using Integration.Peer;

namespace Integration.Harness;

/// <summary>A peer run as a plain child process of the test: this same executable with <c>peer …</c>.</summary>
public sealed class PeerProcess : IPeer
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly StringBuilder _error = new();
    private readonly TaskCompletionSource<string> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _disposed;

    private PeerProcess(uint cid, Process process)
    {
        Cid = cid;
        _process = process;
    }

    /// <inheritdoc/>
    public uint Cid { get; }

    /// <inheritdoc/>
    public string? ReadyLine => _ready.Task.IsCompletedSuccessfully ? _ready.Task.Result : null;

    /// <summary>The file this executable was started from (its app host), which runs the peer program.</summary>
    public static string Executable =>
        System.IO.Path.Combine(AppContext.BaseDirectory, OperatingSystem.IsWindows() ? "Integration.exe" : "Integration");

    /// <summary>Starts a peer; with <paramref name="waitForReady"/>, returns once it printed <c>ready</c>.</summary>
    /// <param name="fabric">The fabric the peer belongs to (VMCI_SIM_FABRIC).</param>
    /// <param name="cid">The peer's context ID (VMCI_SIM_CID).</param>
    /// <param name="args">The verb and its arguments.</param>
    /// <param name="waitForReady">Whether to wait for the <c>ready</c> line.</param>
    /// <param name="ct">Cancels the wait.</param>
    /// <returns>The running peer.</returns>
    public static async Task<PeerProcess> StartAsync(Fabric fabric, uint cid, IEnumerable<string> args, bool waitForReady, CancellationToken ct)
    {
        var info = new ProcessStartInfo(Executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add("peer");
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment[PeerProgram.CidVariable] = cid.ToString(CultureInfo.InvariantCulture);
        info.Environment[PeerProgram.FabricVariable] = fabric.Path;
        var peer = new PeerProcess(cid, new Process { StartInfo = info });
        peer._process.OutputDataReceived += (_, e) => peer.OnOutput(e.Data);
        peer._process.ErrorDataReceived += (_, e) => peer.OnError(e.Data);
        peer._process.Start();
        peer._process.BeginOutputReadLine();
        peer._process.BeginErrorReadLine();
        if (waitForReady)
        {
            try
            {
                await Task.WhenAny(peer._ready.Task, peer._process.WaitForExitAsync(ct)).Unwrap().WaitAsync(ct);
                if (!peer._ready.Task.IsCompleted)
                {
                    throw new InvalidOperationException($"peer process {string.Join(' ', args)} exited with {peer._process.ExitCode} before it was ready: {peer._error}");
                }
            }
            catch
            {
                await peer.DisposeAsync();
                throw;
            }
        }

        return peer;
    }

    /// <inheritdoc/>
    public async Task<PeerExit> WaitForExitAsync(CancellationToken ct)
    {
        await _process.WaitForExitAsync(ct);
        lock (_output)
        {
            return new PeerExit(_process.ExitCode, _output.ToString(), _error.ToString());
        }
    }

    /// <inheritdoc/>
    public Task<PeerExit> StopAsync(CancellationToken ct)
    {
        if (!_process.HasExited)
        {
            Posix.Terminate(_process.Id);
        }

        return WaitForExitAsync(ct);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync(CancellationToken.None);
        }

        _process.Dispose();
    }

    private void OnOutput(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.Append(line).Append('\n');
        }

        if (line.StartsWith("ready", StringComparison.Ordinal))
        {
            _ready.TrySetResult(line);
        }
    }

    private void OnError(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _error.Append(line).Append('\n');
            }
        }
    }
}
