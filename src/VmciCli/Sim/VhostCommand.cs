using System.CommandLine;
using Vmci.Cli.Shell;
using Vmci.Sim.VhostUser;

namespace Vmci.Cli.Sim;

/// <summary>
/// <c>vmci vhost --fabric DIR --cid N --socket PATH</c>: a vhost-user virtio-vsock device that joins one QEMU guest to a
/// simulator fabric as CID N, until QEMU disconnects or the process is told to stop (SIGINT, SIGTERM).
/// Exit codes: 0 the guest went away or the device was stopped; 1 the device failed (a rule broken); 2 a usage error;
/// 3 the device could not start (socket or CID in use, fabric unusable, not Linux).
/// </summary>
internal static class VhostCommand
{
    public const int Failed = ExitCodes.Failed;
    public const int UsageError = ExitCodes.Usage;
    public const int CouldNotRun = ExitCodes.CouldNotRun;

    public static Command Create()
    {
        var fabric = new Option<string?>("--fabric") { Description = "the fabric directory (default: $VMCI_SIM_FABRIC, else a per-user directory)" };
        var cid = new Option<uint>("--cid") { Description = "the guest's CID (3 or more)", Required = true };
        var socket = new Option<string>("--socket") { Description = "the vhost-user socket QEMU connects to (-chardev socket,path=...)", Required = true };
        var maxConnections = new Option<int?>("--max-connections") { Description = "connections the guest may have at once (default 256)" };
        var bufferSize = new Option<uint?>("--buffer-size") { Description = "buf_alloc advertised per connection, in bytes (default 1048576)" };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "no log lines, errors only" };
        var command = new Command("vhost", "Run a vhost-user vsock device: a QEMU guest (vhost-user-vsock-pci) becomes CID N of a simulator fabric.")
        {
            fabric, cid, socket, maxConnections, bufferSize, quiet,
        };
        command.SetAction((parse, ct) =>
        {
            var options = new VhostUserDeviceOptions
            {
                Fabric = parse.GetValue(fabric),
                Cid = parse.GetValue(cid),
                SocketPath = parse.GetValue(socket)!,
                Log = parse.GetValue(quiet) ? null : line => Console.Error.WriteLine($"vhost: {DateTime.UtcNow:HH:mm:ss.fff} {line}"),
            };
            if (parse.GetValue(maxConnections) is { } max)
                options.MaxConnections = max;
            if (parse.GetValue(bufferSize) is { } size)
                options.BufferSize = size;
            return RunAsync(options, ct);
        });
        return command;
    }

    private static async Task<int> RunAsync(VhostUserDeviceOptions options, CancellationToken ct)
    {
        if (!OperatingSystem.IsLinux())
        {
            await Console.Error.WriteLineAsync("vmci: vhost-user devices run on Linux only").ConfigureAwait(false);
            return CouldNotRun;
        }
        VhostUserDevice device;
        try
        {
            device = new VhostUserDevice(options);
        }
        catch (VmciException e)
        {
            await Console.Error.WriteLineAsync($"vmci: {e.Message}").ConfigureAwait(false);
            return e.Errno == Errno.EINVAL ? UsageError : CouldNotRun;
        }
        await using (device.ConfigureAwait(false))
        {
            Task run;
            try
            {
                run = device.RunAsync(ct);
            }
            catch (VmciException e)
            {
                await Console.Error.WriteLineAsync($"vmci: {e.Message}").ConfigureAwait(false);
                return CouldNotRun;
            }
            if (options.Log is not null)
                await Console.Error.WriteLineAsync($"vhost: listening on {device.SocketPath} for guest CID {device.Cid} in fabric {device.Fabric.Directory}").ConfigureAwait(false);
            try
            {
                await run.ConfigureAwait(false);
                return ExitCodes.Success;
            }
            catch (VmciException e)
            {
                await Console.Error.WriteLineAsync($"vmci: {e.Message}").ConfigureAwait(false);
                return Failed;
            }
            finally
            {
                options.Log?.Invoke(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"CPU time {Environment.CpuUsage.TotalTime.TotalMilliseconds:0} ms (user {Environment.CpuUsage.UserTime.TotalMilliseconds:0} ms)"));
            }
        }
    }
}
