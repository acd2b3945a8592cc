using System.Net;
using System.Net.Sockets;
using BenchmarkDotNet.Attributes;
using Vmci;
using Vmci.Sim;
using Vmci.Transport.Internal;

namespace VmciBench;

/// <summary>Endpoint parsing and formatting.</summary>
[MemoryDiagnoser]
public class EndpointBench
{
    private readonly VmciEndpoint _endpoint = VmciEndpoint.Parse("vmci://2:5555");

    [Benchmark]
    public VmciEndpoint Parse() => VmciEndpoint.Parse("vmci://2:5555");

    [Benchmark]
    public string Format() => _endpoint.ToString();
}

/// <summary>One 64 KiB (or 16 B) write through a <see cref="RelayPair"/> (tcp socket pair to a sim connection).</summary>
[MemoryDiagnoser]
public class RelayPumpBench
{
    private string _dir = "";
    private Socket _tcpClient = null!;
    private IVsockConnection _far = null!;
    private RelayPair _pair = null!;
    private byte[] _payload = [];
    private byte[] _sink = [];

    [Params(16, 65536)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _dir = Directory.CreateTempSubdirectory("vmci-micro-").FullName;
        var fabric = SimFabric.Open(_dir);
        var host = fabric.Join(VmciCid.Host);
        using var listener = host.Listen(new VsockAddress(VmciCid.Any, VmciPort.Any));
        var accept = listener.AcceptAsync().AsTask();
        var near = fabric.Join(VmciCid.FirstGuest).ConnectAsync(listener.LocalAddress with { Cid = VmciCid.Host }).AsTask().GetAwaiter().GetResult();
        _far = accept.GetAwaiter().GetResult();
        using var tcpListener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        tcpListener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        tcpListener.Listen(1);
        _tcpClient = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        _tcpClient.Connect(tcpListener.LocalEndPoint!);
        var tcpServer = tcpListener.Accept();
        _pair = new RelayPair(tcpServer, near, _ => { });
        _pair.Start();
        _payload = new byte[Size];
        _sink = new byte[Size];
    }

    [Benchmark]
    public void TcpToVsock()
    {
        _tcpClient.Send(_payload);
        for (var got = 0; got < _sink.Length;)
            got += _far.ReceiveAsync(_sink.AsMemory(got)).AsTask().GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _pair.Abort();
        _tcpClient.Dispose();
        _far.Dispose();
        Directory.Delete(_dir, recursive: true);
    }
}

/// <summary>One simulator connect + accept + close of both ends.</summary>
[MemoryDiagnoser]
public class SimHandshakeBench
{
    private string _dir = "";
    private SimNetwork _guest = null!;
    private IVsockListener _listener = null!;
    private VsockAddress _target;

    [GlobalSetup]
    public void Setup()
    {
        _dir = Directory.CreateTempSubdirectory("vmci-micro-").FullName;
        var fabric = SimFabric.Open(_dir);
        _listener = fabric.Join(VmciCid.Host).Listen(new VsockAddress(VmciCid.Any, VmciPort.Any));
        _guest = fabric.Join(VmciCid.FirstGuest);
        _target = _listener.LocalAddress with { Cid = VmciCid.Host };
    }

    [Benchmark]
    public async Task ConnectAccept()
    {
        var accept = _listener.AcceptAsync();
        using var near = await _guest.ConnectAsync(_target);
        using var far = await accept;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _listener.Dispose();
        Directory.Delete(_dir, recursive: true);
    }
}
