using System.Buffers.Binary;
using System.Diagnostics;
using System.Net.Sockets;

namespace VmciBench;

/// <summary>
/// The physical limit: a plain length-prefixed stream (4-byte little-endian length, then the bytes) over a Unix
/// domain socket, buffered like NetMQ batches small messages, same sizes and counts as the NetMQ rows.
/// </summary>
internal static class RawStream
{
    public static Throughput Throughput(string path, int size, int count)
    {
        using var listener = Listen(path);
        Exception? failure = null;
        var sender = new Thread(() =>
        {
            try
            {
                using var socket = Connect(path);
                using var stream = new BufferedStream(new NetworkStream(socket, ownsSocket: false), 64 * 1024);
                var payload = new byte[size];
                Span<byte> header = stackalloc byte[4];
                BinaryPrimitives.WriteInt32LittleEndian(header, size);
                for (var i = 0; i <= count; i++)
                {
                    stream.Write(header);
                    stream.Write(payload);
                }
                stream.Flush();
            }
            catch (Exception e) when (e is IOException or SocketException)
            {
                failure = e;
            }
        })
        { IsBackground = true, Name = "uds sender" };
        sender.Start();
        using var accepted = Accept(listener, "uds push/pull");
        using var input = new BufferedStream(new NetworkStream(accepted, ownsSocket: false), 64 * 1024);
        var buffer = new byte[size];
        ReadMessage(input, buffer);
        var cpu = Environment.CpuUsage.TotalTime;
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < count; i++)
            ReadMessage(input, buffer);
        watch.Stop();
        cpu = Environment.CpuUsage.TotalTime - cpu;
        if (!sender.Join(Paths.Watchdog) || failure is not null)
            throw new TimeoutException($"uds push/pull {E2eBench.Label(size)}: the sender did not end cleanly ({failure?.Message})");
        var seconds = watch.Elapsed.TotalSeconds;
        return new(count / seconds, count * (double)size / seconds / 1e6, cpu.TotalMicroseconds / count);
    }

    public static Latency RoundTrips(string path, int trips)
    {
        using var listener = Listen(path);
        var server = new Thread(() =>
        {
            try
            {
                using var socket = listener.Accept();
                var buffer = new byte[4 + 16];
                while (true)
                {
                    socket.ReceiveTimeout = (int)Paths.Watchdog.TotalMilliseconds;
                    var got = 0;
                    while (got < buffer.Length)
                    {
                        var n = socket.Receive(buffer.AsSpan(got));
                        if (n == 0)
                            return;
                        got += n;
                    }
                    socket.Send(buffer);
                }
            }
            catch (SocketException)
            {
            }
        })
        { IsBackground = true, Name = "uds echo" };
        server.Start();
        using var client = Connect(path);
        client.ReceiveTimeout = (int)Paths.Watchdog.TotalMilliseconds;
        var message = new byte[4 + 16];
        BinaryPrimitives.WriteInt32LittleEndian(message, 16);
        var reply = new byte[message.Length];
        var samples = new double[trips];
        var cpu = TimeSpan.Zero;
        for (var i = -100; i < trips; i++)
        {
            if (i == 0)
                cpu = Environment.CpuUsage.TotalTime;
            var start = Stopwatch.GetTimestamp();
            client.Send(message);
            var got = 0;
            while (got < reply.Length)
            {
                var n = client.Receive(reply.AsSpan(got));
                if (n == 0)
                    throw new TimeoutException("uds req/rep: the echo server closed");
                got += n;
            }
            if (i >= 0)
                samples[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
        }
        cpu = Environment.CpuUsage.TotalTime - cpu;
        client.Shutdown(SocketShutdown.Both);
        server.Join(Paths.Watchdog);
        return Paths.Percentiles(samples) with { CpuUsPerTrip = cpu.TotalMicroseconds / trips };
    }

    private static void ReadMessage(Stream input, byte[] buffer)
    {
        Span<byte> header = stackalloc byte[4];
        input.ReadExactly(header);
        var length = BinaryPrimitives.ReadInt32LittleEndian(header);
        input.ReadExactly(buffer, 0, length);
    }

    private static Socket Listen(string path)
    {
        File.Delete(path);
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(16);
        return listener;
    }

    private static Socket Connect(string path)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Connect(new UnixDomainSocketEndPoint(path));
        return socket;
    }

    private static Socket Accept(Socket listener, string row)
    {
        if (!listener.Poll(Paths.Watchdog, SelectMode.SelectRead))
            throw new TimeoutException($"{row}: no connection within {Paths.Watchdog.TotalSeconds:F0} s");
        var socket = listener.Accept();
        socket.ReceiveTimeout = (int)Paths.Watchdog.TotalMilliseconds;
        return socket;
    }
}
