namespace Hardening.Auth.Tests;

public sealed class PackageTests(PostgresFixture postgres, RedisFixture redis) : IClassFixture<PostgresFixture>, IClassFixture<RedisFixture>
{
    [Fact]
    public void Public_api_matches_the_baseline() =>
        PublicApiBaseline.AssertMatches(System.Reflection.Assembly.Load("Hardening.Auth"));

    [Fact]
    public Task Package_holds_dll_docs_readme_and_source_link() => PackageInspector.AssertPackageIsCompleteAsync("Hardening.Auth");

    [Fact]
    public async Task Harness_postgres_is_a_real_postgresql_15()
    {
        var version = await postgres.Server.ScalarAsync<int>("SELECT current_setting('server_version_num')::int");
        Assert.InRange(version, 150000, 159999);
    }

    [Fact]
    public async Task Harness_redis_answers_ping_on_a_raw_socket() =>
        Assert.Equal("+PONG", await redis.Server.PingAsync());
}
