using System.Text;
using System.Text.Json;
using Vmci;
using Vmci.TestKit;
using Vmci.TestKit.Agent;

namespace VmciTestKit.Tests;

/// <summary>
/// The agent (<c>vmci agent</c>) serves whoever reaches its port: every request is untrusted. A bad one gets a reply
/// naming the field and the rule, the session goes on, the agent never crashes, and what a session opened is closed
/// when it ends. Driven here as a hostile client would: raw JSON lines on a vsock stream of a real simulated fabric.
/// </summary>
public sealed class AgentServerTests : IAsyncLifetime
{
    private readonly TestFabric _fabric = new();
    private readonly Watchdog _watchdog = Watchdog.Start(TestContext.Current.CancellationToken);
    private AgentServer _agent = null!;

    public ValueTask InitializeAsync()
    {
        _agent = AgentServer.Start(_fabric.Machine(3), new VsockAddress(VmciCid.Any, VmciPort.Any));
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        await _agent.DisposeAsync();
        _fabric.Dispose();
        _watchdog.Dispose();
    }

    [Theory]
    [InlineData("this is not json", "EPROTO", "not an agent request")]
    [InlineData("null", "EPROTO", "JSON null")]
    [InlineData("{\"op\":null}", "EINVAL", "op")]
    [InlineData("{}", "EINVAL", "op")]
    [InlineData("{\"op\":\"format.disk\"}", "EINVAL", "'format.disk' is not an agent operation")]
    [InlineData("{\"op\":\"socket.new\",\"type\":\"TOASTER\"}", "EINVAL", "'TOASTER' is not one of PAIR")]
    [InlineData("{\"op\":\"socket.new\"}", "EINVAL", "type")]
    [InlineData("{\"op\":\"close\",\"id\":4242}", "EINVAL", "4242 names nothing open")]
    [InlineData("{\"op\":\"stream.send\",\"id\":1,\"size\":1}", "EINVAL", "1 is not an open IVsockConnection")]
    [InlineData("{\"op\":\"stream.listen\",\"address\":\"vmci://nowhere\"}", "EINVAL", "")]
    [InlineData("{\"op\":\"stream.getOption\",\"id\":1,\"option\":\"colour\"}", "EINVAL", "")]
    [InlineData("{\"op\":7}", "EPROTO", "not an agent request")]
    public async Task Request_Bad_RepliesWithTheRuleAndTheSessionGoesOn(string line, string errno, string says)
    {
        await using var control = await ControlAsync();

        var reply = await control.AskAsync(line);

        Assert.False(reply.GetProperty("ok").GetBoolean(), reply.ToString());
        Assert.Equal(errno, reply.GetProperty("errno").GetString());
        Assert.Contains(says, reply.GetProperty("message").GetString());
        Assert.True((await control.AskAsync("{\"op\":\"hello\"}")).GetProperty("ok").GetBoolean());
    }

    [Theory]
    [InlineData("{\"op\":\"socket.send\",\"id\":1,\"frames\":[null]}", "a frame is null")]
    [InlineData("{\"op\":\"socket.send\",\"id\":1,\"frames\":[]}", "1..64 frames")]
    [InlineData("{\"op\":\"socket.send\",\"id\":1,\"frames\":[{\"size\":-1}]}", "size")]
    [InlineData("{\"op\":\"socket.send\",\"id\":1,\"frames\":[{\"size\":67108864},{\"size\":67108864}]}", "at most 67108864 bytes in all")]
    public async Task SocketSend_BadFrames_RefusedBeforeAnythingIsAllocated(string line, string says)
    {
        await using var control = await ControlAsync();
        Assert.Equal(1, (await control.AskAsync("{\"op\":\"socket.new\",\"type\":\"PUSH\"}")).GetProperty("id").GetInt32());

        var reply = await control.AskAsync(line);

        Assert.Equal("EINVAL", reply.GetProperty("errno").GetString());
        Assert.Contains(says, reply.GetProperty("message").GetString());
    }

    [Fact]
    public async Task Stream_SizeOverTheLimit_Refused()
    {
        await using var control = await ControlAsync();
        var listen = await control.AskAsync("{\"op\":\"stream.listen\"}");
        var port = VmciEndpoint.Parse(listen.GetProperty("address").GetString()!).Port;
        using var peer = await _fabric.Machine(2).ConnectAsync(new VsockAddress(3, port), null, _watchdog.Token);
        var accepted = await control.AskAsync($"{{\"op\":\"stream.accept\",\"id\":{listen.GetProperty("id").GetInt32()}}}");

        var reply = await control.AskAsync($"{{\"op\":\"stream.send\",\"id\":{accepted.GetProperty("id").GetInt32()},\"size\":{1L << 40}}}");

        Assert.Equal("EINVAL", reply.GetProperty("errno").GetString());
        Assert.Contains("size", reply.GetProperty("message").GetString());
    }

    [Fact]
    public async Task Line_LongerThanTheLimit_ErrorThenClosedAndTheAgentServesOthers()
    {
        await using var control = await ControlAsync();

        // Exactly the limit without a newline: the agent has read it all when it answers (unread bytes would make its
        // close a reset, as the kernel does).
        await control.Connection.SendAsync(Encoding.ASCII.GetBytes(new string('x', AgentServer.MaxRequestLineBytes)), _watchdog.Token);
        var reply = await control.ReadReplyAsync();

        Assert.Equal("EMSGSIZE", reply.GetProperty("errno").GetString());
        Assert.Empty(await control.Connection.ReadToEndAsync(_watchdog.Token));
        await using var next = await ControlAsync();
        Assert.True((await next.AskAsync("{\"op\":\"hello\"}")).GetProperty("ok").GetBoolean());
    }

    [Fact]
    public async Task Sessions_MoreThanTheLimit_ClosedAtOnceUntilOneEnds()
    {
        var sessions = new List<Control>();
        try
        {
            for (var i = 0; i < AgentServer.MaxSessions; i++)
            {
                sessions.Add(await ControlAsync());
                Assert.True((await sessions[^1].AskAsync("{\"op\":\"hello\"}")).GetProperty("ok").GetBoolean());
            }
            await using (var refused = await ControlAsync())
                Assert.Empty(await refused.Connection.ReadToEndAsync(_watchdog.Token));

            await sessions[0].DisposeAsync();
            sessions.RemoveAt(0);

            // The freed place is taken once the agent has seen that session end: no event reaches a client for that.
            JsonElement? hello = null;
            while (hello is null)
            {
                _watchdog.Token.ThrowIfCancellationRequested();
                await using var next = await ControlAsync();
                try
                {
                    hello = await next.AskAsync("{\"op\":\"hello\"}");
                }
                catch (Exception e) when (e is EndOfStreamException || e is VmciException { Errno: Errno.ECONNRESET or Errno.EPIPE })
                {
                    // closed at once (seen as the end, a reset or a broken pipe, by when the hello went): the ended
                    // session was not yet reaped
                }
            }
            Assert.True(hello.Value.GetProperty("ok").GetBoolean());
        }
        finally
        {
            foreach (var session in sessions)
                await session.DisposeAsync();
        }
    }

    [Fact]
    public async Task Session_Ends_WhatItOpenedIsClosed()
    {
        var control = await ControlAsync();
        var listen = await control.AskAsync("{\"op\":\"stream.listen\"}");
        var port = VmciEndpoint.Parse(listen.GetProperty("address").GetString()!).Port;

        await control.DisposeAsync();

        // The agent closes the session's listener once it has read the end of the control stream; the port then
        // refuses connections (no event reaches this side: watched until it does, at the watchdog).
        _watchdog.Until(() => Refused(port), $"the session's listener on port {port} to close");
    }

    private bool Refused(uint port)
    {
        try
        {
            using var c = _fabric.Machine(2).ConnectAsync(new VsockAddress(3, port), null, _watchdog.Token).AsTask().GetAwaiter().GetResult();
            return false;
        }
        catch (VmciException e) when (e.Errno == Errno.ECONNRESET)
        {
            return true;
        }
    }

    private async Task<Control> ControlAsync() =>
        new(await _fabric.Machine(2).ConnectAsync(new VsockAddress(3, _agent.Address.Port), null, _watchdog.Token), _watchdog.Token);

    /// <summary>A raw control connection: a line out, a line back.</summary>
    private sealed class Control(IVsockConnection connection, CancellationToken token) : IAsyncDisposable
    {
        private readonly List<byte> _pending = [];

        public IVsockConnection Connection { get; } = connection;

        public async Task<JsonElement> AskAsync(string line)
        {
            await Connection.SendAsync(Encoding.UTF8.GetBytes(line + "\n"), token);
            return await ReadReplyAsync();
        }

        public async Task<JsonElement> ReadReplyAsync()
        {
            var buffer = new byte[4096];
            int newline;
            while ((newline = _pending.IndexOf((byte)'\n')) < 0)
            {
                var n = await Connection.ReceiveAsync(buffer, token);
                if (n == 0)
                    throw new EndOfStreamException("the agent closed the control connection");
                _pending.AddRange(buffer.AsSpan(0, n));
            }
            var reply = JsonDocument.Parse(_pending.GetRange(0, newline).ToArray()).RootElement.Clone();
            _pending.RemoveRange(0, newline + 1);
            return reply;
        }

        public ValueTask DisposeAsync()
        {
            Connection.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
