using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Hardening.Drills.Faults;

/// <summary>
/// Refresh tokens raced across a Redis fault: each token is sent by several clients at once (as a thief and the
/// owner would), before, during and after the outage; <see cref="FaultChecks.RefreshSingleUse"/> then proves that no
/// token was accepted twice over the whole drill. Tokens are minted by logging in (one login family each) before the
/// fault, because logins are refused while Redis is down.
/// </summary>
internal sealed class RefreshRace(FaultClient client, DrillUser user, int racers)
{
    /// <summary>Logs in <paramref name="count"/> times; returns the refresh tokens (set-up: retried).</summary>
    public async Task<List<string>> MintAsync(int count, CancellationToken ct)
    {
        var tokens = new List<string>();
        var attempts = 0;
        while (tokens.Count < count)
        {
            var (status, t) = await client.LoginAsync(user.Tenant, user.Email, user.Password, ct);
            if (status == 200)
            {
                tokens.Add(t!.Value.Refresh);
            }
            else if (++attempts > count + 20)
            {
                throw new InvalidOperationException($"minting refresh tokens: login answered {status}");
            }
        }

        return tokens;
    }

    /// <summary>Sends each token from <c>racers</c> clients at once; returns how many were accepted.</summary>
    public async Task<int> RaceAsync(IEnumerable<string> tokens, CancellationToken ct)
    {
        var accepted = 0;
        foreach (var token in tokens)
        {
            var key = Key(token);
            var results = await Task.WhenAll(Enumerable.Range(0, racers).Select(_ =>
                client.PostJsonAsync("refresh", "/api/auth/refresh", new { refreshToken = token }, key: key, ct: ct)));
            accepted += results.Count(r => r.Status == 200);
        }

        return accepted;
    }

    /// <summary>Sends one token once (to consume it before the fault); returns the status.</summary>
    public async Task<int> ConsumeAsync(string token, CancellationToken ct) =>
        (await client.PostJsonAsync("refresh", "/api/auth/refresh", new { refreshToken = token }, key: Key(token), ct: ct)).Status;

    /// <summary>A short name for a token in the figures and violations (never the token).</summary>
    public static string Key(string token) => "rt-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)))[..12];
}
