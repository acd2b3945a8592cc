namespace Conformance.Support;

/// <summary>
/// Whether this process runs where kernel AF_VSOCK may be used: inside the guest of eng/guest-run.sh (or a VMware VM
/// through eng/guest/run-bundle.sh), which sets VMCI_BACKEND=vsock. Elsewhere kernel tests skip and never touch AF_VSOCK.
/// </summary>
public static class KernelGuest
{
    /// <summary>The skip reason outside the guest.</summary>
    public const string SkipReason = "kernel vsock runs only in the QEMU guest (VMCI_BACKEND=vsock); run eng/guest-run.sh";

    /// <summary>True inside the guest.</summary>
    public static bool Active => Environment.GetEnvironmentVariable("VMCI_BACKEND") == "vsock";

    /// <summary>Skips the current test outside the guest.</summary>
    public static void Require()
    {
        if (!Active)
            Assert.Skip(SkipReason);
    }
}
