using Hardening.Drills;

namespace Hardening.Drills.Tests;

public sealed class DrillArgumentsTests
{
    [Fact]
    public void Options_and_flags_are_parsed()
    {
        var a = DrillArguments.Parse(["load", "--instances", "3", "--redis", "cluster", "--quick"]);
        Assert.Equal("load", a.Name);
        Assert.Equal(3, a.Instances);
        Assert.Equal("cluster", a.Redis);
        Assert.True(a.Quick);
    }

    [Theory]
    [InlineData("--instances", "0")]
    [InlineData("--instances", "x")]
    [InlineData("--instances", "-1")]
    [InlineData("--redis", "sentinel")]
    public void A_bad_value_names_the_option(string option, string value)
    {
        var a = DrillArguments.Parse(["load", option, value]);
        var e = Assert.Throws<ArgumentException>(() => option == "--redis" ? (object)a.Redis : a.Instances);
        Assert.Contains(option, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_drill_exits_2_and_names_it()
    {
        var error = new StringWriter();
        Assert.Equal(2, await DrillCommand.RunAsync(["nosuch"], TextWriter.Null, error, CancellationToken.None));
        Assert.Contains("nosuch", error.ToString(), StringComparison.Ordinal);
    }
}
