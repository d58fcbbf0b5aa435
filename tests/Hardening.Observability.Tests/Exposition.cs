using System.Globalization;
using System.Text;

namespace Hardening.Observability.Tests;

/// <summary>A small, strict parser of the Prometheus text format used to check what the exporter wrote.</summary>
internal sealed record Sample(string Name, IReadOnlyDictionary<string, string> Labels, double Value)
{
    public string? Label(string name) => Labels.TryGetValue(name, out var v) ? v : null;
}

internal static class Exposition
{
    public static IReadOnlyList<Sample> Parse(string text)
    {
        var result = new List<Sample>();
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            var i = 0;
            while (i < line.Length && line[i] != '{' && line[i] != ' ')
            {
                i++;
            }

            var name = line[..i];
            var labels = new Dictionary<string, string>(StringComparer.Ordinal);
            if (i < line.Length && line[i] == '{')
            {
                i++;
                while (line[i] != '}')
                {
                    var eq = line.IndexOf('=', i);
                    var key = line[i..eq];
                    i = eq + 2; // skip ="
                    var value = new StringBuilder();
                    while (line[i] != '"')
                    {
                        if (line[i] == '\\')
                        {
                            i++;
                            value.Append(line[i] switch
                            {
                                'n' => '\n',
                                '\\' => '\\',
                                '"' => '"',
                                var c => throw new FormatException($"Bad escape \\{c} in: {line}"),
                            });
                        }
                        else
                        {
                            value.Append(line[i]);
                        }

                        i++;
                    }

                    i++; // closing quote
                    labels[key] = value.ToString();
                    if (line[i] == ',')
                    {
                        i++;
                    }
                }

                i++;
            }

            var valueText = line[(i + 1)..];
            var v = valueText switch
            {
                "+Inf" => double.PositiveInfinity,
                "-Inf" => double.NegativeInfinity,
                "NaN" => double.NaN,
                _ => double.Parse(valueText, NumberStyles.Float, CultureInfo.InvariantCulture),
            };
            result.Add(new Sample(name, labels, v));
        }

        return result;
    }

    public static async Task<ProcessRunner.Result> PromtoolAsync(string arguments, string? stdinFile = null)
    {
        var promtool = ServerBinaries.Promtool();
        var command = stdinFile is null ? $"{promtool} {arguments}" : $"{promtool} {arguments} < '{stdinFile}'";
        return await ProcessRunner.RunAsync("/bin/sh", ["-c", command], TimeSpan.FromMinutes(2));
    }
}
