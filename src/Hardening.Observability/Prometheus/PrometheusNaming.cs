using System.Globalization;
using System.Text;

namespace Hardening.Observability;

/// <summary>Maps OpenTelemetry instrument names, units and tag names to Prometheus names (OTel's compatibility spec).</summary>
internal static class PrometheusNaming
{
    private static readonly Dictionary<string, string> Units = new(StringComparer.Ordinal)
    {
        ["d"] = "days", ["h"] = "hours", ["min"] = "minutes", ["s"] = "seconds", ["ms"] = "milliseconds",
        ["us"] = "microseconds", ["ns"] = "nanoseconds", ["By"] = "bytes", ["KiBy"] = "kibibytes", ["MiBy"] = "mebibytes",
        ["GiBy"] = "gibibytes", ["KBy"] = "kilobytes", ["MBy"] = "megabytes", ["GBy"] = "gigabytes", ["m"] = "meters",
        ["V"] = "volts", ["A"] = "amperes", ["J"] = "joules", ["W"] = "watts", ["g"] = "grams", ["Cel"] = "celsius",
        ["Hz"] = "hertz", ["%"] = "percent",
    };

    private static readonly Dictionary<string, string> PerUnits = new(StringComparer.Ordinal)
    {
        ["s"] = "second", ["m"] = "minute", ["h"] = "hour", ["d"] = "day", ["w"] = "week", ["mo"] = "month", ["y"] = "year",
    };

    /// <summary>The Prometheus metric family name: sanitised name, unit suffix, <c>_total</c> for monotonic counters.</summary>
    public static string MetricName(string name, string? unit, bool monotonicCounter, bool isGauge)
    {
        var result = Sanitize(name, allowColon: true);
        var suffix = UnitSuffix(unit, isGauge);
        if (suffix.Length > 0 && !result.EndsWith("_" + suffix, StringComparison.Ordinal) && result != suffix)
        {
            result += "_" + suffix;
        }

        // Histogram sample suffixes on another type would clash with histogram series (promtool rejects them),
        // e.g. Npgsql's up-down counter db.client.connection.count.
        if (!monotonicCounter && (result.EndsWith("_count", StringComparison.Ordinal) || result.EndsWith("_sum", StringComparison.Ordinal) || result.EndsWith("_bucket", StringComparison.Ordinal)))
        {
            result += "_value";
        }

        if (monotonicCounter)
        {
            if (result.EndsWith("_total", StringComparison.Ordinal))
            {
                result = result[..^"_total".Length];
            }

            result += "_total";
        }

        return result;
    }

    /// <summary>A valid Prometheus label name for a tag name.</summary>
    public static string LabelName(string tag)
    {
        var result = Sanitize(tag, allowColon: false);
        return result.StartsWith("__", StringComparison.Ordinal) ? "key" + result : result;
    }

    /// <summary>The unit suffix for a UCUM unit (<c>s</c> → <c>seconds</c>, <c>By/s</c> → <c>bytes_per_second</c>); annotations like <c>{request}</c> are dropped.</summary>
    public static string UnitSuffix(string? unit, bool isGauge)
    {
        if (string.IsNullOrWhiteSpace(unit))
        {
            return "";
        }

        var cleaned = StripAnnotations(unit).Trim();
        if (cleaned.Length == 0)
        {
            return "";
        }

        if (cleaned == "1")
        {
            return isGauge ? "ratio" : "";
        }

        var slash = cleaned.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0)
        {
            return Sanitize(Units.TryGetValue(cleaned, out var u) ? u : cleaned, allowColon: false).Trim('_');
        }

        var main = cleaned[..slash];
        var per = cleaned[(slash + 1)..];
        var mainName = main.Length == 0 ? "" : Units.TryGetValue(main, out var m) ? m : main;
        var perName = PerUnits.TryGetValue(per, out var p) ? p : Units.TryGetValue(per, out var pu) ? pu : per;
        var text = mainName.Length == 0 ? "per_" + perName : mainName + "_per_" + perName;
        return Sanitize(text, allowColon: false).Trim('_');
    }

    /// <summary>Formats a sample value: shortest round-trip text, <c>+Inf</c>, <c>-Inf</c>, <c>NaN</c>.</summary>
    public static string FormatValue(double value) =>
        double.IsPositiveInfinity(value) ? "+Inf"
        : double.IsNegativeInfinity(value) ? "-Inf"
        : double.IsNaN(value) ? "NaN"
        : value.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>Appends <paramref name="value"/> escaped for a label value (<c>\\</c>, <c>\"</c>, <c>\n</c>).</summary>
    public static void AppendEscapedLabelValue(StringBuilder sb, string value)
    {
        foreach (var c in value)
        {
            switch (c)
            {
                case '\\': sb.Append("\\\\"); break;
                case '"': sb.Append("\\\""); break;
                case '\n': sb.Append("\\n"); break;
                default: sb.Append(c); break;
            }
        }
    }

    /// <summary>Escapes HELP text (<c>\\</c> and <c>\n</c>).</summary>
    public static string EscapeHelp(string text) => text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    private static string StripAnnotations(string unit)
    {
        var sb = new StringBuilder(unit.Length);
        var depth = 0;
        foreach (var c in unit)
        {
            if (c == '{')
            {
                depth++;
            }
            else if (c == '}')
            {
                depth = Math.Max(0, depth - 1);
            }
            else if (depth == 0)
            {
                sb.Append(c);
            }
        }

        return sb.ToString();
    }

    private static string Sanitize(string name, bool allowColon)
    {
        var sb = new StringBuilder(name.Length + 1);
        var lastUnderscore = false;
        foreach (var c in name)
        {
            var ok = c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') || (allowColon && c == ':');
            if (ok)
            {
                sb.Append(c);
                lastUnderscore = false;
            }
            else if (!lastUnderscore)
            {
                sb.Append('_');
                lastUnderscore = true;
            }
        }

        if (sb.Length == 0 || char.IsAsciiDigit(sb[0]))
        {
            sb.Insert(0, '_');
        }

        return sb.ToString();
    }
}
