using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using NetMQ;
using NetMQ.Sockets;
using Vmci;
using Vmci.Cli;
using Vmci.Cli.Shell;
using Vmci.TestKit;
using Vmci.Transport;

namespace VmciCli.Tests;

/// <summary>
/// <c>vmci forward</c>, run as the real program on a private fabric: a real libzmq client (Debian's python3-zmq) reaching a
/// NetMQ socket on a simulated VM through it, both directions, half-close, and every argument checked.
/// </summary>
public sealed class ForwardTests() : FabricTestBase(new TestFabric(), Watchdog.Start(2 * Watchdog.DefaultTimeout, TestContext.Current.CancellationToken))
{
    /// <summary>Debian's interpreter, which has python3-zmq (another python3 first on PATH may not).</summary>
    private const string Python = "/usr/bin/python3";

    private const string ZmqRequest = """
        import sys, zmq
        ctx = zmq.Context()
        req = ctx.socket(zmq.REQ)
        req.setsockopt(zmq.LINGER, 0)
        req.setsockopt(zmq.RCVTIMEO, 60000)
        req.connect(sys.argv[1])
        req.send_multipart([b"hello", b"from libzmq " + zmq.zmq_version().encode()])
        print(" | ".join(f.decode() for f in req.recv_multipart()))
        req.close()
        ctx.term()
        """;

    [Fact]
    public async Task Forward_TcpToVmci_LibzmqReqGetsTheNetMqReply()
    {
        RequirePythonZmq();
        using var rep = new ResponseSocket();
        rep.Options.Linger = TimeSpan.Zero;
        rep.VmciOptions().Network = Fabric.Machine(3);
        rep.VmciBind("vmci://*:*");
        var port = VmciEndpoint.Parse(rep.VmciLastEndpoint()!).Port;
        var server = Task.Run(
            () =>
            {
                var request = Delivery.Receive(rep, Watchdog.Timeout);
                rep.SendMoreFrame("reply to").SendFrame(string.Join(" ", request.Select(f => f.ConvertToString())));
            },
            Watchdog.Token);

        using var tool = ToolProcess.Start(Fabric, ["forward", "tcp:127.0.0.1:0", $"vmci://3:{port}", "--count", "1"]);
        var forward = tool.Process;
        var tcp = await ListeningOn(forward);
        Assert.StartsWith("tcp:127.0.0.1:", tcp, StringComparison.Ordinal);

        var (code, output, error) = await RunPythonAsync(ZmqRequest, $"tcp://{tcp["tcp:".Length..]}");

        Assert.True(code == 0, $"python3 exited {code}: {error}");
        Assert.StartsWith("reply to | hello from libzmq ", output.Trim(), StringComparison.Ordinal);
        await Watchdog.Guard(server);
        await Watchdog.Guard(forward.WaitForExitAsync(Watchdog.Token));
        Assert.Equal(0, forward.ExitCode);
        Assert.Contains("1 connection(s) forwarded", await forward.StandardOutput.ReadToEndAsync(Watchdog.Token), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Forward_VmciToUnix_BothWaysWithHalfClose()
    {
        var path = Path.Combine(Fabric.Directory, "app.sock");
        using var app = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        app.Bind(new UnixDomainSocketEndPoint(path));
        app.Listen(1);
        using var tool = ToolProcess.Start(Fabric, ["forward", "vmci://*:*", $"unix:{path}", "--cid", "3", "--count", "1"]);
        var forward = tool.Process;
        var vmci = await ListeningOn(forward);
        var port = VmciEndpoint.Parse(vmci).Port;

        using var client = await Watchdog.Guard(Fabric.Host.ConnectAsync(new VsockAddress(3, port), null, Watchdog.Token).AsTask());
        await client.SendAsync("request"u8.ToArray(), Watchdog.Token);
        client.ShutdownSend();
        using var served = await Watchdog.Guard(app.AcceptAsync(Watchdog.Token).AsTask());
        var request = await ReadToEndAsync(served);             // ends only if the half-close was passed on
        await served.SendAsync("response"u8.ToArray(), SocketFlags.None, Watchdog.Token);
        served.Shutdown(SocketShutdown.Send);
        var response = await Watchdog.Guard(VsockStreams.ReadToEndAsync(client, Watchdog.Token));

        Assert.Equal("request", request);
        Assert.Equal("response", Encoding.UTF8.GetString(response));
        await Watchdog.Guard(forward.WaitForExitAsync(Watchdog.Token));
        Assert.Equal(0, forward.ExitCode);
    }

    [Fact]
    public async Task Forward_NobodyAtTheTarget_ClosesTheClientAndSaysWhy()
    {
        using var tool = ToolProcess.Start(Fabric, ["forward", "tcp:127.0.0.1:0", "vmci://3:4000", "--count", "1"]);
        var forward = tool.Process;
        var tcp = await ListeningOn(forward);
        var port = int.Parse(tcp.Split(':')[^1], System.Globalization.CultureInfo.InvariantCulture);

        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await Watchdog.Guard(client.ConnectAsync(System.Net.IPAddress.Loopback, port, Watchdog.Token).AsTask());
        var rest = await ReadToEndAsync(client);
        await Watchdog.Guard(forward.WaitForExitAsync(Watchdog.Token));

        Assert.Equal("", rest);
        Assert.Contains("connecting to vmci://3:4000 failed", await forward.StandardError.ReadToEndAsync(Watchdog.Token), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("tcp:127.0.0.1:0", "tcp:127.0.0.1:80", "exactly one of listen and connect")]
    [InlineData("vmci://*:*", "vmci://3:80", "exactly one of listen and connect")]
    [InlineData("tcp:localhost:0", "vmci://3:80", "no host names")]
    [InlineData("tcp:127.0.0.1:65536", "vmci://3:80", "0 (any free port) to 65535")]
    [InlineData("tcp:127.0.0.1", "vmci://3:80", "an IP address and a port")]
    [InlineData("tcp:127.0.0.1:0", "vmci://*:80", "needs a CID")]
    [InlineData("tcp:127.0.0.1:0", "vmci://3:*", "needs a port number")]
    [InlineData("vmci://*:*", "tcp:127.0.0.1:0", "1 to 65535")]
    [InlineData("unix:", "vmci://3:80", "needs a socket path")]
    [InlineData("udp:127.0.0.1:9", "vmci://3:80", "must be one of tcp:IP:PORT, unix:PATH or vmci://CID:PORT")]
    [InlineData("vmci://x:1", "tcp:127.0.0.1:1", "not a vmci:// endpoint")]
    public void Forward_BadArgument_IsAUsageErrorNamingTheRule(string listen, string connect, string rule)
    {
        var errors = CommandHost.UsageErrors(Program.CreateRoot().Parse(["forward", listen, connect]));

        Assert.Contains(errors, e => e.Contains(rule, StringComparison.Ordinal) && e.Contains("(usage: vmci forward --help)", StringComparison.Ordinal));
    }

    [Fact]
    public void Forward_UnixPathLongerThanSunPath_IsAUsageError()
    {
        var errors = CommandHost.UsageErrors(Program.CreateRoot().Parse(["forward", "unix:/" + new string('a', 107), "vmci://3:80"]));

        Assert.Contains(errors, e => e.Contains("longer than 107 bytes", StringComparison.Ordinal));
    }

    [Fact]
    public void Forward_CountOutOfRange_IsAUsageError()
    {
        var errors = CommandHost.UsageErrors(Program.CreateRoot().Parse(["forward", "tcp:127.0.0.1:0", "vmci://3:80", "--count", "0"]));

        Assert.Contains(errors, e => e.Contains("--count '0'", StringComparison.Ordinal));
    }

    /// <summary>The address forward printed it listens on: <c>forward: listening on ADDRESS -> TARGET (BACKEND)</c>.</summary>
    private async Task<string> ListeningOn(Process forward)
    {
        var line = await Watchdog.Guard(forward.StandardOutput.ReadLineAsync(Watchdog.Token).AsTask());
        Assert.True(line?.StartsWith("forward: listening on ", StringComparison.Ordinal), $"forward printed '{line}'; stderr: {(forward.HasExited ? await forward.StandardError.ReadToEndAsync(Watchdog.Token) : "")}");
        return line!.Split(' ')[3];
    }

    private async Task<string> ReadToEndAsync(Socket socket)
    {
        var received = new MemoryStream();
        var buffer = new byte[4096];
        int n;
        while ((n = await Watchdog.Guard(socket.ReceiveAsync(buffer, SocketFlags.None, Watchdog.Token).AsTask())) > 0)
            received.Write(buffer, 0, n);
        return Encoding.UTF8.GetString(received.ToArray());
    }

    private async Task<(int Code, string Output, string Error)> RunPythonAsync(string script, string argument)
    {
        var start = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(script);
        start.ArgumentList.Add(argument);
        using var python = Process.Start(start)!;
        var output = python.StandardOutput.ReadToEndAsync(Watchdog.Token);
        var error = python.StandardError.ReadToEndAsync(Watchdog.Token);
        await Watchdog.Guard(python.WaitForExitAsync(Watchdog.Token));
        return (python.ExitCode, await output, await error);
    }

    /// <summary>Skipped without Debian's python3-zmq, except under CI (<c>CI=true</c>), where it is a failure.</summary>
    private static void RequirePythonZmq()
    {
        var start = new ProcessStartInfo(Python) { RedirectStandardError = true, RedirectStandardOutput = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("import zmq");
        string? problem;
        try
        {
            using var check = Process.Start(start)!;
            check.WaitForExit();
            problem = check.ExitCode == 0 ? null : $"{Python} cannot import zmq (apt-get install python3-zmq)";
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            problem = $"{Python}: {e.Message} (apt-get install python3-zmq)";
        }
        if (problem is null)
            return;
        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
            Assert.Fail($"CI=true, so the libzmq client must run, but: {problem}");
        Assert.Skip(problem);
    }
}
