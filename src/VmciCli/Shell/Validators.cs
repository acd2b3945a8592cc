using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace Vmci.Cli.Shell;

/// <summary>
/// Range checks for options and arguments, run by the parser: a value out of its range is a usage error (exit code 2)
/// reported in one line that names the option, the value given and the rule.
/// </summary>
internal static class Validators
{
    /// <summary>The option's value must lie in [<paramref name="min"/>, <paramref name="max"/>]; <paramref name="unit"/> names what it counts.</summary>
    public static Option<T> InRange<T>(this Option<T> option, long min, long max, string unit)
    {
        option.Validators.Add(result =>
        {
            if (result.Tokens.Count == 0)
                return;
            var value = ToLong(result.GetValueOrDefault<T>());
            if (value is { } v && (v < min || v > max))
                result.AddError(Rule(option.Name, result.Tokens[^1].Value, $"must be {Range(min, max)} {unit}"));
        });
        return option;
    }

    /// <summary>The option must name a machine's CID: 2 (the host) or more, not 4294967295 (any).</summary>
    public static Option<T> MachineCid<T>(this Option<T> option)
    {
        option.Validators.Add(result =>
        {
            if (result.Tokens.Count > 0 && ToLong(result.GetValueOrDefault<T>()) is { } v && v is < VmciCid.Host or >= VmciCid.Any)
                result.AddError(Rule(option.Name, result.Tokens[^1].Value, "must be a machine's CID: 2 for the host, 3 to 4294967294 for guests"));
        });
        return option;
    }

    /// <summary>The argument must be a <c>vmci://CID:PORT</c> endpoint (SPEC §1); to connect, with a CID and a port (not <c>*</c>).</summary>
    public static Argument<string> Endpoint(this Argument<string> argument, Func<ArgumentResult, bool> connecting)
    {
        argument.Validators.Add(result => Check(result, argument.Name, result.GetValueOrDefault<string>(), connecting(result)));
        return argument;
    }

    /// <summary>The option must be a <c>vmci://CID:PORT</c> endpoint to bind (SPEC §1).</summary>
    public static Option<string> BindEndpoint(this Option<string> option)
    {
        option.Validators.Add(result =>
        {
            if (result.Tokens.Count > 0)
                Check(result, option.Name, result.GetValueOrDefault<string>(), connecting: false);
        });
        return option;
    }

    /// <summary>The option's value must be one of <paramref name="values"/> (one line, unlike the parser's own list).</summary>
    public static Option<T> OneOf<T>(this Option<T> option, params string[] values)
    {
        option.Validators.Add(result =>
        {
            if (result.Tokens.Count > 0 && !values.Contains(result.Tokens[^1].Value, StringComparer.Ordinal))
                result.AddError(Rule(option.Name, result.Tokens[^1].Value, $"must be one of {string.Join(", ", values)}"));
        });
        return option;
    }

    /// <summary>The argument's value must be one of <paramref name="values"/>.</summary>
    public static Argument<string> OneOf(this Argument<string> argument, params string[] values)
    {
        argument.Validators.Add(result =>
        {
            if (result.Tokens.Count > 0 && !values.Contains(result.Tokens[^1].Value, StringComparer.Ordinal))
                result.AddError(Rule(argument.Name, result.Tokens[^1].Value, $"must be one of {string.Join(", ", values)}"));
        });
        return argument;
    }

    /// <summary>The option's value must not be empty.</summary>
    public static Option<string?> NotEmpty(this Option<string?> option)
    {
        option.Validators.Add(result =>
        {
            if (result.Tokens.Count > 0 && string.IsNullOrWhiteSpace(result.Tokens[^1].Value))
                result.AddError(Rule(option.Name, "", "must not be empty"));
        });
        return option;
    }

    /// <summary>One line: <c>--interval -5: must be 0 to 3600000 milliseconds</c>.</summary>
    public static string Rule(string name, string value, string rule) => $"{name} '{value}': {rule}";

    private static void Check(SymbolResult result, string name, string? text, bool connecting)
    {
        if (text is null)
            return;
        if (!VmciEndpoint.TryParse(text, out var endpoint))
        {
            try
            {
                VmciEndpoint.Parse(text);
            }
            catch (VmciException e)
            {
                result.AddError(Rule(name, text, $"not a vmci:// endpoint ({e.Errno}: {Detail(e)}); the form is vmci://CID:PORT, e.g. vmci://2:5555"));
            }
            return;
        }
        if (connecting && !endpoint.IsLocalCid && endpoint.Cid == VmciCid.Any)
            result.AddError(Rule(name, text, "a connection needs a CID (a number or @), not *"));
        else if (connecting && endpoint.Port == VmciPort.Any)
            result.AddError(Rule(name, text, "a connection needs a port number, not *"));
    }

    private static string Detail(VmciException e)
    {
        var message = e.Message;
        var colon = message.LastIndexOf("): ", StringComparison.Ordinal);
        return colon >= 0 ? message[(colon + 3)..] : message;
    }

    private static long? ToLong<T>(T value) => value switch
    {
        int i => i,
        long l => l,
        uint u => u,
        null => null,
        _ => Convert.ToInt64(value, CultureInfo.InvariantCulture),
    };

    private static string Range(long min, long max) =>
        string.Create(CultureInfo.InvariantCulture, $"{min} to {max}");
}
