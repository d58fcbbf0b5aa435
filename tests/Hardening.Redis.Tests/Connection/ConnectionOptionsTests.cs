namespace Hardening.Redis.Tests.Connection;

public sealed class ConnectionOptionsTests
{
    [Fact]
    public void Parses_every_supported_option()
    {
        var o = RedisConnectionOptions.Parse(
            "cache1.example.com:7000, [::1]:7001,user=app,password=s3cr=t,ssl=True,sslHost=redis.example.com,connectTimeout=1500,syncTimeout=2500,defaultDatabase=3,name=ats,abortConnect=false");
        Assert.Equal([new RedisEndpoint("cache1.example.com", 7000), new RedisEndpoint("::1", 7001)], o.Endpoints);
        Assert.Equal("app", o.User);
        Assert.Equal("s3cr=t", o.Password);
        Assert.True(o.Ssl);
        Assert.Equal("redis.example.com", o.SslHost);
        Assert.Equal(TimeSpan.FromMilliseconds(1500), o.ConnectTimeout);
        Assert.Equal(TimeSpan.FromMilliseconds(2500), o.SyncTimeout);
        Assert.Equal(3, o.DefaultDatabase);
        Assert.Equal("ats", o.ClientName);
        Assert.False(o.AbortConnect);
    }

    [Fact]
    public void Defaults_match_stackexchange_redis()
    {
        var o = RedisConnectionOptions.Parse("localhost");
        Assert.Equal(new RedisEndpoint("localhost", 6379), Assert.Single(o.Endpoints));
        Assert.True(o.AbortConnect);
        Assert.False(o.Ssl);
        Assert.Equal(TimeSpan.FromSeconds(5), o.ConnectTimeout);
        Assert.Equal(TimeSpan.FromSeconds(5), o.SyncTimeout);
        Assert.Equal(0, o.DefaultDatabase);
        Assert.Equal(6380, RedisConnectionOptions.Parse("localhost,ssl=true").Endpoints[0].Port);
        Assert.Equal(TimeSpan.FromMilliseconds(10), RedisConnectionOptions.Parse("h:1,SYNCTIMEOUT=10").SyncTimeout);
    }

    [Theory]
    [InlineData("localhost,foo=1", "'foo'")]
    [InlineData("localhost,connectTimeout=abc", "'connectTimeout'")]
    [InlineData("localhost,connectTimeout=-5", "'connectTimeout'")]
    [InlineData("localhost,syncTimeout=0", "'syncTimeout'")]
    [InlineData("localhost,ssl=yes", "'ssl'")]
    [InlineData("localhost,abortConnect=1", "'abortConnect'")]
    [InlineData("localhost,defaultDatabase=-1", "'defaultDatabase'")]
    [InlineData("localhost:99999", "port '99999'")]
    [InlineData("localhost:abc", "port 'abc'")]
    [InlineData("a:b:c", "'a:b:c'")]
    [InlineData("password=x", "no endpoint")]
    [InlineData("", "no endpoint")]
    [InlineData("localhost,name=has space", "'name'")]
    [InlineData("localhost,user=bob", "'user'")]
    public void Malformed_or_unknown_options_name_the_option(string connectionString, string expected)
    {
        var ex = Assert.ThrowsAny<ArgumentException>(() => RedisConnectionOptions.Parse(connectionString));
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Errors_and_to_string_never_show_the_password()
    {
        var o = RedisConnectionOptions.Parse("localhost,password=hunter2");
        Assert.DoesNotContain("hunter2", o.ToString(), StringComparison.Ordinal);
        Assert.Contains("password=*****", o.ToString(), StringComparison.Ordinal);
        var ex = Assert.ThrowsAny<ArgumentException>(() => RedisConnectionOptions.Parse("localhost,password=hunter2,bogus=1"));
        Assert.DoesNotContain("hunter2", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Null_connection_string_is_rejected() =>
        Assert.Throws<ArgumentNullException>(() => RedisConnectionOptions.Parse(null!));
}
