namespace Hardening.Repository.Tests;

/// <summary>The repository's build entry point rejects what it does not know.</summary>
public sealed class BuildScriptTests
{
    [Theory]
    [InlineData("nonsense")]
    [InlineData("")]
    public async Task Unknown_command_prints_usage_and_exits_non_zero(string command)
    {
        var result = await ProcessRunner.RunAsync("bash", [Path.Combine(RepoPaths.Root, "build.sh"), command], TimeSpan.FromSeconds(30), RepoPaths.Root);
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("usage: ./build.sh <command>", result.StdErr, StringComparison.Ordinal);
        Assert.Contains("test", result.StdErr, StringComparison.Ordinal);
    }
}
