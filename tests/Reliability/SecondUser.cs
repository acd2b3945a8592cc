using System.Diagnostics;
using System.Globalization;
using Vmci.TestKit;

namespace Vmci.Reliability;

/// <summary>
/// Another Unix user on the same machine, for the tests in which a neighbour plants links or claims CIDs (issue #16):
/// commands run as uid:gid 65534:65534 (nobody, on every Linux) through <c>setpriv</c>, or as the ids in
/// <c>VMCI_TEST_SECOND_USER</c> (<c>uid:gid</c>). Switching user needs root (CI runs as root); elsewhere the tests skip
/// and say why.
/// </summary>
internal static class SecondUser
{
    /// <summary>The variable that names the second user's ids, <c>uid:gid</c>.</summary>
    public const string Variable = "VMCI_TEST_SECOND_USER";

    private const string Setpriv = "/usr/bin/setpriv";

    /// <summary>The second user's ids.</summary>
    public static (uint Uid, uint Gid) Ids { get; } = ReadIds();

    /// <summary>Skips the test, with the reason, when this process cannot act as a second user.</summary>
    public static void SkipUnlessAvailable()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "a second user needs Linux (setpriv)");
        Assert.SkipUnless(Environment.IsPrivilegedProcess, $"acting as a second user needs root (setpriv --reuid); run as root, as CI does");
        Assert.SkipUnless(File.Exists(Setpriv), $"acting as a second user needs {Setpriv} (util-linux)");
    }

    /// <summary>Runs <paramref name="program"/> as the second user: exit code, standard output, standard error.</summary>
    public static async Task<(int Code, string Output, string Error)> RunAsync(Watchdog watchdog, string program, params string[] arguments)
    {
        var info = new ProcessStartInfo(Setpriv) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in (string[])[$"--reuid={Ids.Uid}", $"--regid={Ids.Gid}", "--clear-groups", "--", program, .. arguments])
            info.ArgumentList.Add(a);
        info.Environment["HOME"] = "/";
        using var child = Process.Start(info)!;
        var output = child.StandardOutput.ReadToEndAsync(watchdog.Token);
        var error = child.StandardError.ReadToEndAsync(watchdog.Token);
        await watchdog.Guard(child.WaitForExitAsync(watchdog.Token));
        return (child.ExitCode, await output, await error);
    }

    /// <summary>Runs a shell script as the second user (its arguments are $0, $1, …) and requires it to succeed.</summary>
    public static async Task ShellAsync(Watchdog watchdog, string script, params string[] arguments)
    {
        var (code, output, error) = await RunAsync(watchdog, "/bin/sh", ["-ec", script, .. arguments]);
        Assert.True(code == 0, $"as uid {Ids.Uid}: sh -ec '{script}' exited {code}: {output}{error}");
    }

    /// <summary>Runs a Python 3 script as the second user; its standard output, trimmed.</summary>
    public static async Task<string> PythonAsync(Watchdog watchdog, string script, params string[] arguments)
    {
        Assert.SkipUnless(File.Exists("/usr/bin/python3"), "the raw connector of another user is a python3 script: needs /usr/bin/python3");
        var (code, output, error) = await RunAsync(watchdog, "/usr/bin/python3", ["-c", script, .. arguments]);
        Assert.True(code == 0, $"as uid {Ids.Uid}: python3 exited {code}: {output}{error}");
        return output.Trim();
    }

    private static (uint, uint) ReadIds()
    {
        var text = Environment.GetEnvironmentVariable(Variable);
        if (text is { Length: > 0 } && text.Split(':') is [var u, var g]
            && uint.TryParse(u, NumberStyles.None, CultureInfo.InvariantCulture, out var uid)
            && uint.TryParse(g, NumberStyles.None, CultureInfo.InvariantCulture, out var gid))
            return (uid, gid);
        return (65534, 65534);
    }
}
