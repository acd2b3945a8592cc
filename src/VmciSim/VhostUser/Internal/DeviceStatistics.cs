using System.Globalization;

namespace Vmci.Sim.VhostUser.Internal;

/// <summary>What went through one device session (written by the device thread only).</summary>
internal sealed class DeviceStatistics
{
    private readonly long[] _fromGuest = new long[8];
    private readonly long[] _toGuest = new long[8];

    /// <summary>Connections opened, either way.</summary>
    public int Connections { get; set; }

    /// <summary>Connections reset or packets refused because a rule was broken (or the fabric failed).</summary>
    public int Resets { get; set; }

    /// <summary>RSTs for unknown connections dropped because too many were waiting for RX buffers.</summary>
    public long DroppedResets { get; set; }

    /// <summary>Payload bytes the guest sent that reached the fabric.</summary>
    public long BytesToFabric { get; set; }

    /// <summary>Payload bytes from the fabric put into the guest's buffers.</summary>
    public long BytesToGuest { get; set; }

    /// <summary>Times the device thread woke up (poll(2) returned).</summary>
    public long Wakeups { get; set; }

    /// <summary>Kicks taken from the guest, by queue (0 RX, 1 TX): each one a notification through QEMU.</summary>
    public long[] Kicks { get; } = new long[2];

    /// <summary>Interrupts requested of the guest (call eventfd signals), by queue (0 RX, 1 TX).</summary>
    public long[] Calls { get; } = new long[2];

    /// <summary>
    /// From the first interrupt the guest had not answered yet to the next kick the device took: how long the guest
    /// (its vCPUs, its driver, QEMU in between) takes to act on what the device told it.
    /// </summary>
    public DurationSample GuestTurnaround { get; } = new();

    /// <summary>From each wake-up of the device thread to the end of its work: how long the device holds things up.</summary>
    public DurationSample DeviceWork { get; } = new();

    /// <summary>Packets from the guest of <paramref name="op"/> (index 0: unknown operations).</summary>
    public long FromGuest(VsockOp op) => _fromGuest[Index(op)];

    /// <summary>Packets to the guest of <paramref name="op"/>.</summary>
    public long ToGuest(VsockOp op) => _toGuest[Index(op)];

    public void CountFromGuest(VsockOp op) => _fromGuest[Index(op)]++;

    public void CountToGuest(VsockOp op) => _toGuest[Index(op)]++;

    /// <summary>One line for the log.</summary>
    public string Summary() => string.Create(CultureInfo.InvariantCulture,
        $"{Connections} connection(s), {BytesToFabric} bytes guest→fabric, {BytesToGuest} bytes fabric→guest, {Resets} reset(s) for broken rules or failures, {DroppedResets} RST(s) dropped; {Wakeups} wake-ups, kicks RX {Kicks[0]} TX {Kicks[1]}, interrupts RX {Calls[0]} TX {Calls[1]}, packets from the guest {_fromGuest.Sum()}, to the guest {_toGuest.Sum()}; the guest's kick after an interrupt: {GuestTurnaround.Summary()}; the device's work per wake-up: {DeviceWork.Summary()}");

    private static int Index(VsockOp op) => op is >= VsockOp.Request and <= VsockOp.CreditRequest ? (int)op : 0;
}
