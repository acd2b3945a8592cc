using DotNet.Testcontainers.Configurations;
using DotNet.Testcontainers.Containers;

namespace Vmci.TestKit.Testcontainers.Internal;

/// <summary>A container that does its job and exits may finish before a "running" check sees it: exited counts as started.</summary>
internal sealed class RunningOrExited : IWaitUntil
{
    /// <inheritdoc/>
    public Task<bool> UntilAsync(IContainer container) =>
        Task.FromResult(container.State is TestcontainersStates.Running or TestcontainersStates.Exited);
}
