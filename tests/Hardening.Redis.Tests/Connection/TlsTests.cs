using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Hardening.Redis.Tests.Connection;

/// <summary>A real redis-server with TLS only, using a throwaway CA and server certificate.</summary>
public sealed class TlsRedisFixture : IAsyncLifetime
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "hardening-redis-tls-" + Guid.NewGuid().ToString("N"));
    private X509Certificate2 _ca = null!;
    private Process? _server;
    private int _port;

    public int Port => _port;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_dir);
        var now = DateTimeOffset.UtcNow;
        using var caKey = RSA.Create(2048);
        var caRequest = new CertificateRequest("CN=Hardening Test CA", caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        _ca = caRequest.CreateSelfSigned(now.AddDays(-1), now.AddDays(2));

        using var serverKey = RSA.Create(2048);
        var serverRequest = new CertificateRequest("CN=localhost", serverKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("localhost");
        san.AddIpAddress(IPAddress.Loopback);
        serverRequest.CertificateExtensions.Add(san.Build());
        serverRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var serverCert = serverRequest.Create(_ca, now.AddHours(-1), now.AddDays(1), RandomNumberGenerator.GetBytes(8));

        await File.WriteAllTextAsync(Path.Combine(_dir, "ca.pem"), _ca.ExportCertificatePem());
        await File.WriteAllTextAsync(Path.Combine(_dir, "server.pem"), serverCert.ExportCertificatePem());
        await File.WriteAllTextAsync(Path.Combine(_dir, "server.key"), serverKey.ExportPkcs8PrivateKeyPem());

        _port = FreePort.Next();
        // The harness cannot start a TLS server; 'timeout' bounds the server's life if this test process is killed.
        var psi = new ProcessStartInfo("timeout") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[]
                 {
                     "--signal=KILL", "600", ServerBinaries.Redis("redis-server"),
                     "--port", "0", "--tls-port", _port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1",
                     "--tls-cert-file", Path.Combine(_dir, "server.pem"), "--tls-key-file", Path.Combine(_dir, "server.key"),
                     "--tls-ca-cert-file", Path.Combine(_dir, "ca.pem"), "--tls-auth-clients", "no",
                     "--save", "", "--appendonly", "no", "--dir", _dir, "--loglevel", "warning",
                 })
        {
            psi.ArgumentList.Add(a);
        }

        _server = Process.Start(psi)!;
        _server.OutputDataReceived += (_, _) => { };
        _server.ErrorDataReceived += (_, _) => { };
        _server.BeginOutputReadLine();
        _server.BeginErrorReadLine();
        for (var i = 0; i < 400 && !FreePort.IsListening(_port); i++)
        {
            Assert.False(_server.HasExited, "redis-server with TLS exited");
            await Task.Delay(25);
        }
    }

    public async Task DisposeAsync()
    {
        if (_server is { HasExited: false })
        {
            _server.Kill(entireProcessTree: true);
            await _server.WaitForExitAsync();
        }

        _server?.Dispose();
        _ca.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    public RemoteCertificateValidationCallback TrustTestCa => (_, certificate, _, errors) =>
    {
        if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != 0)
        {
            return false; // a name mismatch or a missing certificate is never accepted
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(_ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(new X509Certificate2(certificate));
    };
}

/// <summary>TLS through SslStream against the real server.</summary>
public sealed class TlsTests(TlsRedisFixture tls) : IClassFixture<TlsRedisFixture>
{
    [Fact]
    public async Task Tls_connection_with_a_trusted_ca_runs_commands()
    {
        var options = RedisConnectionOptions.Parse($"127.0.0.1:{tls.Port},ssl=true,sslHost=localhost");
        options.CertificateValidation = tls.TrustTestCa;
        await using var redis = await RedisConnection.ConnectAsync(options);
        await redis.SetAsync("tls", new byte[] { 1, 2, 3 });
        Assert.Equal(new byte[] { 1, 2, 3 }, await redis.GetAsync("tls"));
        await Task.WhenAll(Enumerable.Range(0, 500).Select(i => redis.IncrementAsync("tls:counter").AsTask()));
        Assert.Equal(500, (await redis.ExecuteAsync("GET", ["tls:counter"])).AsInt64());
    }

    [Fact]
    public async Task Untrusted_certificate_fails_closed_by_default()
    {
        var ex = await Assert.ThrowsAsync<RedisConnectionException>(() =>
            RedisConnection.ConnectAsync($"127.0.0.1:{tls.Port},ssl=true,sslHost=localhost,connectTimeout=3000"));
        Assert.IsAssignableFrom<System.Security.Authentication.AuthenticationException>(ex.InnerException);
    }

    [Fact]
    public async Task Wrong_ssl_host_is_rejected()
    {
        var options = RedisConnectionOptions.Parse($"127.0.0.1:{tls.Port},ssl=true,sslHost=not-this-host.example,connectTimeout=3000");
        options.CertificateValidation = tls.TrustTestCa;
        await Assert.ThrowsAsync<RedisConnectionException>(() => RedisConnection.ConnectAsync(options));
    }
}
