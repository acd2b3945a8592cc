using Docker.DotNet;
using Docker.DotNet.Models;
using DotNet.Testcontainers.Builders;
using DotNet.Testcontainers.Configurations;
using Vmci.TestKit.Testcontainers;

namespace Integration.Harness;

/// <summary>
/// The assembly-wide answer to "can the container tests run here?", checked once: an engine answers
/// (Testcontainers' own discovery, then a ping) and the peer image exists locally. Container tests call
/// <see cref="RequireAvailable"/> first: without an engine they are skipped with the reason, except
/// under CI (<c>CI=true</c>), where that is a failure.
/// </summary>
public sealed class DockerEngine : IAsyncLifetime
{
    /// <summary>The peer image (built by eng/docker/build-images.sh); override with VMCI_PEER_IMAGE.</summary>
    public static string PeerImage =>
        Environment.GetEnvironmentVariable("VMCI_PEER_IMAGE") is { Length: > 0 } image ? image : "vmci-harness/peer:dev";

    /// <summary>Why containers cannot run here, or null when they can.</summary>
    public string? UnavailableReason { get; private set; }

    /// <summary>The engine's client; valid only when <see cref="UnavailableReason"/> is null.</summary>
    public DockerClient? Client { get; private set; }

    /// <summary>Whether this run is a CI run (<c>CI=true</c>), where a missing engine is a failure.</summary>
    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <inheritdoc/>
    public async ValueTask InitializeAsync()
    {
        // Also set by Program.Main; repeated here in case another entry point runs the tests.
        Environment.SetEnvironmentVariable("TESTCONTAINERS_RYUK_DISABLED", "true");
        DockerApi.EnsureCompatibleVersion();
        var endpoint = TestcontainersSettings.OS.DockerEndpointAuthConfig;
        if (endpoint is null)
        {
            UnavailableReason = TestcontainersMessage();
            return;
        }

        var client = endpoint.GetDockerClientBuilder(Guid.Empty).Build();
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            await client.System.PingAsync(timeout.Token);
            await client.Images.InspectImageAsync(PeerImage, timeout.Token);
            Client = client;
            await RemoveOrphansAsync(client, timeout.Token);
        }
        catch (DockerImageNotFoundException)
        {
            UnavailableReason = $"The image {PeerImage} does not exist on the engine at {endpoint.Endpoint}: publish tests/Integration " +
                "self-contained for linux-x64 and run eng/docker/build-images.sh PUBLISH_DIR (see docs/integration.md).";
            client.Dispose();
        }
        catch (Exception e) when (e is DockerApiException or HttpRequestException or IOException or OperationCanceledException or TimeoutException)
        {
            UnavailableReason = $"The Docker engine at {endpoint.Endpoint} does not answer: {e.Message}";
            client.Dispose();
        }
    }

    /// <summary>Skips the calling test (fails it under CI) when containers cannot run here.</summary>
    public void RequireAvailable()
    {
        if (UnavailableReason is null)
        {
            return;
        }

        if (IsCi)
        {
            Assert.Fail($"CI=true, so the container tests must run, but: {UnavailableReason}");
        }

        Assert.Skip(UnavailableReason);
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync()
    {
        Client?.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// Without Ryuk, a test process that crashed leaves its containers behind. A peer container whose fabric
    /// directory no longer exists belongs to no running test (each test deletes its fabric last): remove it.
    /// </summary>
    private static async Task RemoveOrphansAsync(DockerClient client, CancellationToken ct)
    {
        var peers = await client.Containers.ListContainersAsync(
            new ContainersListParameters
            {
                All = true,
                Filters = new Dictionary<string, IDictionary<string, bool>> { ["label"] = new Dictionary<string, bool> { [PeerContainer.FabricLabel] = true } },
            },
            ct);
        foreach (var orphan in peers.Where(c => !Directory.Exists(c.Labels[PeerContainer.FabricLabel])))
        {
            await client.Containers.RemoveContainerAsync(orphan.ID, new ContainerRemoveParameters { Force = true }, ct);
        }
    }

    /// <summary>Testcontainers' own explanation ("Docker is either not running or misconfigured…").</summary>
    private static string TestcontainersMessage()
    {
        try
        {
            _ = new ContainerBuilder(PeerImage).Build();
            return "Testcontainers found no Docker endpoint.";
        }
        catch (ArgumentException e)
        {
            return e.Message;
        }
    }
}
