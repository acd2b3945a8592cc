using Vmci;

namespace Conformance.Support;

/// <summary>Assertions on <see cref="VmciException"/>: the errno is the contract.</summary>
public static class VmciAssert
{
    /// <summary>Asserts that <paramref name="action"/> throws a <see cref="VmciException"/> with <paramref name="errno"/>.</summary>
    public static VmciException Throws(Errno errno, Action action)
    {
        var e = Assert.Throws<VmciException>(action);
        Assert.True(e.Errno == errno, $"expected {errno}, got {e.Errno}: {e.Message}");
        return e;
    }

    /// <summary>Asserts that <paramref name="action"/> fails with a <see cref="VmciException"/> with <paramref name="errno"/>.</summary>
    public static async Task<VmciException> ThrowsAsync(Errno errno, Func<Task> action)
    {
        var e = await Assert.ThrowsAsync<VmciException>(action);
        Assert.True(e.Errno == errno, $"expected {errno}, got {e.Errno}: {e.Message}");
        return e;
    }
}
