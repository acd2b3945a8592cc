namespace Vmci.TestKit.Testcontainers;

/// <summary>
/// The Docker engine API version Testcontainers speaks. Testcontainers 4.x asks for API 1.44 by default, which Docker
/// 20.10 (Debian 12's <c>docker.io</c>, API 1.41) refuses ("client version 1.44 is too new"); every engine since
/// 20.10 answers 1.41, and 1.41 has everything a simulated VM needs.
/// </summary>
public static class DockerApi
{
    /// <summary>The environment variable Testcontainers (Docker.DotNet) reads the API version from.</summary>
    public const string VersionVariable = "DOCKER_API_VERSION";

    /// <summary>The version set when <see cref="VersionVariable"/> is unset: Docker 20.10's.</summary>
    public const string CompatibleVersion = "1.41";

    /// <summary>
    /// Sets <c>DOCKER_API_VERSION=1.41</c> for this process unless it is already set (a value given by the user or
    /// CI wins). <see cref="SimulatedVmBuilder"/> calls it; call it yourself before any other Testcontainers type is
    /// used, since Testcontainers reads its settings once.
    /// </summary>
    /// <returns>The version in force: the one that was set, or <see cref="CompatibleVersion"/>.</returns>
    public static string EnsureCompatibleVersion()
    {
        if (Environment.GetEnvironmentVariable(VersionVariable) is { Length: > 0 } version)
            return version;
        Environment.SetEnvironmentVariable(VersionVariable, CompatibleVersion);
        return CompatibleVersion;
    }
}
