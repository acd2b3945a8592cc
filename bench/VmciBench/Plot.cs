using System.Globalization;
using System.Text;

namespace VmciBench;

/// <summary>A hand-written SVG: throughput (MB/s, log y) against message size (log x), one polyline per path.</summary>
internal static class Plot
{
    private static readonly string[] Colors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"];

    public static void Write(string file, Table table, string title)
    {
        const double W = 640, H = 400, L = 70, R = 150, T = 40, B = 50;
        var series = table.Paths.Select(p => (Path: p, Points: table.MBPerSec(p).Where(x => x.MBPerSec > 0).ToList())).ToList();
        var all = series.SelectMany(s => s.Points).ToList();
        if (all.Count == 0)
            return;
        double x0 = Math.Log10(all.Min(p => p.Size)), x1 = Math.Log10(all.Max(p => p.Size));
        double y0 = Math.Floor(Math.Log10(all.Min(p => p.MBPerSec))), y1 = Math.Ceiling(Math.Log10(all.Max(p => p.MBPerSec)));
        if (x1 <= x0)
            x1 = x0 + 1;
        if (y1 <= y0)
            y1 = y0 + 1;
        string X(int size) => F(L + (Math.Log10(size) - x0) / (x1 - x0) * (W - L - R));
        string Y(double v) => F(H - B - (Math.Log10(v) - y0) / (y1 - y0) * (H - T - B));
        var svg = new StringBuilder();
        svg.AppendLine(CultureInfo.InvariantCulture, $"""<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">""");
        svg.AppendLine(CultureInfo.InvariantCulture, $"""<rect width="{W}" height="{H}" fill="white"/><text x="{L}" y="22" font-size="14">{title}</text>""");
        svg.AppendLine(CultureInfo.InvariantCulture, $"""<line x1="{L}" y1="{H - B}" x2="{W - R}" y2="{H - B}" stroke="black"/><line x1="{L}" y1="{T}" x2="{L}" y2="{H - B}" stroke="black"/>""");
        foreach (var size in all.Select(p => p.Size).Distinct().Order())
            svg.AppendLine(CultureInfo.InvariantCulture, $"""<text x="{X(size)}" y="{H - B + 18}" text-anchor="middle">{E2eBench.Label(size)}</text>""");
        for (var e = y0; e <= y1; e++)
        {
            var v = Math.Pow(10, e);
            svg.AppendLine(CultureInfo.InvariantCulture, $"""<line x1="{L}" y1="{Y(v)}" x2="{W - R}" y2="{Y(v)}" stroke="#ddd"/><text x="{L - 6}" y="{Y(v)}" text-anchor="end" dy="4">{v.ToString("G", CultureInfo.InvariantCulture)}</text>""");
        }
        svg.AppendLine(CultureInfo.InvariantCulture, $"""<text x="{(L + W - R) / 2}" y="{H - 12}" text-anchor="middle">message size (log)</text>""");
        svg.AppendLine(CultureInfo.InvariantCulture, $"""<text transform="translate(18,{(T + H - B) / 2}) rotate(-90)" text-anchor="middle">MB/s (log)</text>""");
        for (var i = 0; i < series.Count; i++)
        {
            var color = Colors[i % Colors.Length];
            var points = string.Join(" ", series[i].Points.Select(p => X(p.Size) + "," + Y(p.MBPerSec)));
            svg.AppendLine(CultureInfo.InvariantCulture, $"""<polyline fill="none" stroke="{color}" stroke-width="2" points="{points}"/>""");
            foreach (var p in series[i].Points)
                svg.AppendLine(CultureInfo.InvariantCulture, $"""<circle cx="{X(p.Size)}" cy="{Y(p.MBPerSec)}" r="3" fill="{color}"/>""");
            var ly = T + 10 + (i * 20);
            svg.AppendLine(CultureInfo.InvariantCulture, $"""<line x1="{W - R + 15}" y1="{ly}" x2="{W - R + 40}" y2="{ly}" stroke="{color}" stroke-width="2"/><text x="{W - R + 45}" y="{ly + 4}">{series[i].Path}</text>""");
        }
        svg.AppendLine("</svg>");
        File.WriteAllText(file, svg.ToString());
    }

    private static string F(double v) => v.ToString("F1", CultureInfo.InvariantCulture);
}
